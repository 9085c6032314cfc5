#!/usr/bin/env python3
"""bench/db_changes.py: per-change latency of the region database path.

usage: db_changes.py REGION HOST CHANGES REGIOND_SOCK DB_SOCK VPCD_URL

REGION is the document loaded into the database, HOST the one host whose
vpcd runs (--region-db).  Drives CHANGES object writes through ONE
long-lived writer, vpc-regiond on its unix socket, all of them in HOST's
scope, in a fixed rotation of kinds: ENI add (alternately on HOST and on
another host of the VPC), ENI move (between HOST and another host), ENI
delete, security-group rule add, route add, peering add.  Per change:

  - write_ms: the API call (validation, commit, affected hosts);
  - e2e_ms: from the commit (the earlier of the API's reply and the
    database's own notification of the new Region.cfg, seen by a monitor
    on the database socket) to HOST's acknowledgement (the notification
    of Host_Status.applied_cfg >= that cfg, same monitor);
  - agent_ms: vpcd's own change_ms_last (the update's arrival to the
    bundle's acknowledgement), read from its /v1/status after the ack.

The only running host is HOST: the other hosts the API names as affected
have no vpcd, so "every affected host" is HOST here.  Prints one JSON
object: per-kind and overall p50/p99/max, and counts.
"""
import http.client
import json
import socket
import sys
import threading
import time

import ovsdb_stream
import urllib.request

region, host, n_changes, api_sock, db_sock, vpcd_url = sys.argv[1:7]
n_changes = int(n_changes)
doc = json.load(open(region))
now = time.monotonic


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("regiond", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.path)


def api(method, path, body=None):
    c = UnixHTTP(api_sock)
    data = json.dumps(body).encode() if body is not None else None
    c.request(method, path, body=data,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    text = r.read()
    c.close()
    try:
        return r.status, json.loads(text)
    except ValueError:
        return r.status, {"raw": text.decode(errors="replace")}


def vpcd_status():
    with urllib.request.urlopen(vpcd_url + "/v1/status", timeout=30) as r:
        return json.loads(r.read())


# The monitor: the database's notifications, timestamped on arrival.
region_seen = {}        # cfg -> first time the Region row said it
ack_seen = {}           # cfg -> first time HOST's Host_Status said >= it
cond = threading.Condition()
state = {"ack": -1}


def monitor():
    hs_host = {}
    for t, upd in ovsdb_stream.region_updates(db_sock, now):
        with cond:
            for uuid, rc in upd.get("Region", {}).items():
                new = rc.get("new")
                if new and "cfg" in new:
                    region_seen.setdefault(new["cfg"], t)
            for uuid, rc in upd.get("Host_Status", {}).items():
                new = rc.get("new")
                if not new:
                    continue
                if "host" in new:
                    hs_host[uuid] = new["host"]
                if hs_host.get(uuid) == host and "applied_cfg" in new:
                    a = new["applied_cfg"]
                    if a > state["ack"]:
                        for c in range(max(state["ack"] + 1, a - 1000),
                                       a + 1):
                            ack_seen.setdefault(c, t)
                        state["ack"] = a
            cond.notify_all()


threading.Thread(target=monitor, daemon=True).start()

# HOST's VPCs (its scope's core) and what the changes use.
subnet = {s["id"]: s for s in doc["subnets"]}
vpc_of = lambda e: subnet[e["subnet"]]["vpc"]
local = [e for e in doc["enis"] if e["host"] == host]
scope = sorted({vpc_of(e) for e in local})
hosts_of = {}
for e in doc["enis"]:
    hosts_of.setdefault(vpc_of(e), set()).add(e["host"])
used_ip = {(e["subnet"], e["private_ip"]) for e in doc["enis"]}
sg_by_id = {g["id"]: g for g in doc["security_groups"]}
rtb_by_id = {t["id"]: t for t in doc["route_tables"]}
local_vpcs = [v for v in scope if len(hosts_of[v]) > 1] or scope
# Free addresses per subnet of HOST's VPCs.
free = {}
for s in doc["subnets"]:
    if s["vpc"] in scope:
        net = s["cidr"].split("/")[0].rsplit(".", 1)[0]
        free[s["id"]] = [f"{net}.{i}" for i in range(4, 255)
                         if (s["id"], f"{net}.{i}") not in used_ip]
# Route tables in scope that a subnet uses (so a route reaches flows).
rtbs = sorted({s["route_table"] for s in doc["subnets"]
               if s["vpc"] in scope and s.get("route_table")})
# Peerings: VPCs with their own blocks (peered ones; unpeered VPCs share
# 10.0.0.0/16, and a peering must not join overlapping VPCs).
peered = set()
pairs = set()
for p in doc.get("peering_connections", []):
    peered |= {p["requester_vpc"], p["accepter_vpc"]}
    pairs.add(frozenset((p["requester_vpc"], p["accepter_vpc"])))
vpc_cidr = {v["id"]: v["cidr_blocks"] for v in doc["vpcs"]}
peer_src = [v for v in scope if v in peered]
peer_dst = sorted(peered - set(scope))
# ENIs added by the benchmark: id -> object (their moves and deletes).
added = {}
seq = {"eni": 0, "rule": 0, "route": 0, "pcx": 0, "pi": 0}


def other_host(v):
    return sorted(hosts_of[v] - {host})[seq["eni"] % max(1, len(
        hosts_of[v] - {host}))] if hosts_of[v] - {host} else host


def ch_eni_add():
    n = seq["eni"]
    seq["eni"] += 1
    v = local_vpcs[n % len(local_vpcs)]
    sns = [s for s in free if subnet[s]["vpc"] == v and free[s]]
    sn = sns[n % len(sns)]
    ip = free[sn].pop(0)
    sgs = [g["id"] for g in doc["security_groups"]
           if g["vpc"] == v and g["id"].endswith("-default")][:1]
    e = {"id": "eni-bdb-%05d" % n, "subnet": sn,
         "mac": "0a:bd:%02x:%02x:%02x:01" % (n >> 16 & 255, n >> 8 & 255,
                                            n & 255),
         "private_ip": ip, "host": host if n % 2 else other_host(v),
         "security_groups": sgs}
    added[e["id"]] = e
    return "eni_add", "PUT", "/v1/enis/" + e["id"], e


def ch_eni_move():
    eid = sorted(added)[seq["eni"] % len(added)]
    e = dict(added[eid])
    v = subnet[e["subnet"]]["vpc"]
    e["host"] = other_host(v) if e["host"] == host else host
    added[eid] = e
    return "eni_move", "PUT", "/v1/enis/" + eid, e


def ch_eni_delete():
    eid = sorted(added)[0]
    e = added.pop(eid)
    free[e["subnet"]].append(e["private_ip"])
    return "eni_delete", "DELETE", "/v1/enis/" + eid, None


def ch_sg_rule():
    n = seq["rule"]
    seq["rule"] += 1
    v = local_vpcs[n % len(local_vpcs)]
    gid = [g for g in sg_by_id if sg_by_id[g]["vpc"] == v][0]
    g = json.loads(json.dumps(sg_by_id[gid]))
    g.setdefault("ingress", []).append(
        {"protocol": "tcp", "from_port": 20000 + n, "to_port": 20000 + n,
         "cidr": "172.16.%d.0/24" % (n % 256)})
    sg_by_id[gid] = g
    return "sg_rule_add", "PUT", "/v1/security_groups/" + gid, g


def ch_route():
    n = seq["route"]
    seq["route"] += 1
    if not rtbs:
        return None
    tid = rtbs[n % len(rtbs)]
    t = json.loads(json.dumps(rtb_by_id[tid]))
    t.setdefault("routes", []).append(
        {"destination": "198.18.%d.%d/32" % (n // 256, n % 256),
         "target": "blackhole"})
    rtb_by_id[tid] = t
    return "route_add", "PUT", "/v1/route_tables/" + tid, t


def ch_peering():
    while seq["pi"] < len(peer_src) * len(peer_dst):
        i = seq["pi"]
        seq["pi"] += 1
        a = peer_src[i % len(peer_src)]
        b = peer_dst[(i // len(peer_src) * 7919 + i) % len(peer_dst)]
        if frozenset((a, b)) in pairs:
            continue
        pairs.add(frozenset((a, b)))
        pid = "pcx-bdb-%04d" % seq["pcx"]
        seq["pcx"] += 1
        p = {"id": pid, "requester_vpc": a, "accepter_vpc": b}
        return "peering_add", "PUT", "/v1/peering_connections/" + pid, p
    return None


rotation = [ch_eni_add, ch_eni_add, ch_eni_move, ch_sg_rule, ch_route,
            ch_eni_delete, ch_peering, ch_eni_add]


def wait_ack(cfg, timeout=60.0):
    end = now() + timeout
    with cond:
        while cfg not in ack_seen:
            left = end - now()
            if left <= 0:
                return None
            cond.wait(left)
        return ack_seen[cfg]


def q(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * len(xs)))], 2) if xs else None


# Warm-up: the API builds its validator on its first write (not counted).
t0 = now()
kind, m, path, body = ch_sg_rule()
st, rep = api(m, path, body)
warm_ms = (now() - t0) * 1000
if st != 200:
    sys.exit("warm-up write refused: %s %s" % (st, rep))
wait_ack(rep["cfg"])

rows, refused, not_affected = [], [], 0
i = 0
while len(rows) < n_changes and i < n_changes * 3:
    ch = rotation[i % len(rotation)]()
    i += 1
    if ch is None:
        continue
    kind, m, path, body = ch
    before = vpcd_status()["region_db"]
    t0 = now()
    st, rep = api(m, path, body)
    t1 = now()
    if st != 200:
        refused.append({"kind": kind, "path": path, "status": st,
                        "reply": str(rep)[:300]})
        continue
    cfg = rep["cfg"]
    if host not in rep.get("hosts", []):
        not_affected += 1
    ack = wait_ack(cfg)
    if ack is None:
        sys.exit("%s %s: cfg %d not acknowledged by %s in 60 s"
                 % (kind, path, cfg, host))
    with cond:
        commit = min(t1, region_seen.get(cfg, t1))
    whole = vpcd_status()
    after = whole["region_db"]
    inc = {k: after["incremental_changes"][k]
           - before["incremental_changes"].get(k, 0)
           for k in after["incremental_changes"]}
    rows.append({"kind": kind, "cfg": cfg,
                 "write_ms": (t1 - t0) * 1000,
                 "e2e_ms": (ack - commit) * 1000,
                 "agent_ms": after["change_ms_last"],
                 "dump_ms": after.get("dump_ms_last"),
                 "phases_ms": whole.get("phases_ms_last"),
                 "recomputes": after["scope_recomputes"]
                 - before["scope_recomputes"],
                 "updates": after["updates"] - before["updates"],
                 "incremental": {k: v for k, v in inc.items() if v}})


def summary(rs):
    return {"n": len(rs),
            "agent_ms": {"p50": q([r["agent_ms"] for r in rs], .5),
                         "p99": q([r["agent_ms"] for r in rs], .99),
                         "max": q([r["agent_ms"] for r in rs], 1)},
            "e2e_ms": {"p50": q([r["e2e_ms"] for r in rs], .5),
                       "p99": q([r["e2e_ms"] for r in rs], .99),
                       "max": q([r["e2e_ms"] for r in rs], 1)},
            "write_ms": {"p50": q([r["write_ms"] for r in rs], .5),
                         "p99": q([r["write_ms"] for r in rs], .99)},
            "recomputes": sum(r["recomputes"] for r in rs),
            "dump_ms_p50": q([r["dump_ms"] or 0 for r in rs], .5),
            "phases_ms_p50": {k: q([(r["phases_ms"] or {}).get(k, 0)
                                    for r in rs], .5)
                              for k in PHASES}}


PHASES = ("bindings", "model", "compile", "persist", "cache", "flows")


kinds = sorted({r["kind"] for r in rows})
out = {"host": host, "scope_vpcs": len(scope), "local_enis": len(local),
       "changes": len(rows), "refused": refused,
       "api_not_naming_host": not_affected,
       "warmup_write_ms": round(warm_ms, 1), "all": summary(rows),
       "by_kind": {k: summary([r for r in rows if r["kind"] == k])
                   for k in kinds}}
json.dump(rows, open(sys.argv[7], "w"), indent=0) if len(sys.argv) > 7 \
    else None
print(json.dumps(out, indent=1))

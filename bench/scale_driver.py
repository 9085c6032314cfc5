#!/usr/bin/env python3
"""bench/scale_driver.py: the measurements of make bench-scale.

usage: scale_driver.py CONFIG.json

bench/bench-scale.sh starts the cluster, the relays, vpc-regiond and the
simulated hosts (vpcd --no-switch), then runs this with a JSON file naming
them: "region" (the document loaded), "agents" (host -> [HTTP port, pid
file]), "agent_cmds" (host -> the vpcd command line, started here),
"member_pids", "relay_pids", "monitor_sock" (a member's socket),
"regiond" and "regiond_pid", "restart_relays" (a shell command that stops
every relay by its pid file and starts it again), "changes",
"hosts_per_vpc", "rates" (writes per second to try), "step_s" (seconds per
rate step), "out" (the JSON results).

Times.  One monitor of Region.cfg and Host_Status (host, applied_cfg), a
plain OVSDB JSON-RPC "monitor" on a member's socket, timestamps each
notification on arrival (time.monotonic()).  A change's commit time is the
earlier of the API's reply and the notification of its Region.cfg; its
propagation is from then to the notification of the last affected host's
Host_Status.applied_cfg >= that cfg.  The affected hosts are the ones the
API names (regiondb/affected.c), all of them running here.

Phases: sync (every agent started to every agent acknowledging the
region's cfg), propagation (CHANGES security-group rule adds, one at a
time, each to the default group of an unpeered VPC on exactly
HOSTS_PER_VPC hosts), unaffected updates (from every agent's /v1/status
region_db counters, before and after the propagation phase), write rate
(open-loop steps of increasing rate, the same kind of change), mass
reconnect (every relay restarted at once), CPU (/proc/PID/stat utime +
stime per phase) and memory (VmRSS, VmHWM; Pss and private memory of one
agent from /proc/PID/smaps_rollup).
"""
import bisect
import collections
import concurrent.futures as cf
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

import ovsdb_stream

cfgf = json.load(open(sys.argv[1]))
now = time.monotonic
TICK = os.sysconf("SC_CLK_TCK")
agents = cfgf["agents"]                 # host -> [port, pidfile]
hosts = sorted(agents)
out = {"agents": len(hosts), "phases": {}}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ------------------------------------------------------------ processes
def pid_of(pidfile):
    try:
        return int(open(pidfile).read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cpu_ticks(pid):
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except (OSError, IndexError, TypeError):
        return None


def mem(pid, rollup=False):
    r = {}
    try:
        for line in open("/proc/%d/status" % pid):
            k = line.split(":")[0]
            if k in ("VmRSS", "VmHWM"):
                r[k] = int(line.split()[1]) // 1024
        if rollup:
            for line in open("/proc/%d/smaps_rollup" % pid):
                k = line.split(":")[0]
                if k in ("Pss", "Private_Dirty", "Private_Clean",
                         "Shared_Clean"):
                    r[k] = int(line.split()[1]) // 1024
    except OSError:
        pass
    return r                            # MiB


def groups():
    """The processes measured: name -> list of pid files."""
    g = {"member-%d" % i: [p] for i, p in enumerate(cfgf["member_pids"], 1)}
    for i, p in enumerate(cfgf["relay_pids"], 1):
        g["relay-%d" % i] = [p]
    g["agent %s" % hosts[0]] = [agents[hosts[0]][1]]
    g["all agents"] = [agents[h][1] for h in hosts]
    g["vpc-regiond"] = [cfgf["regiond_pid"]]
    return g


def cpu_snapshot():
    """name -> {pid: ticks} (a restarted relay is a new pid)."""
    s = {}
    for name, files in groups().items():
        s[name] = {}
        for f in files:
            pid = pid_of(f)
            t = cpu_ticks(pid) if pid else None
            if t is not None:
                s[name][pid] = t
    return s, now()


def cpu_since(snap):
    before, t0 = snap
    after, t1 = cpu_snapshot()
    dt = max(t1 - t0, 1e-6)
    r = {}
    for k, pids in after.items():
        ticks = sum(t - before.get(k, {}).get(pid, 0)
                    for pid, t in pids.items())
        r[k] = {"cpu_s": round(ticks / TICK, 2),
                "cores": round(ticks / TICK / dt, 3)}
    return r


# ------------------------------------------------------------- monitor
cond = threading.Condition()
region_seen = {}                        # cfg -> first time seen
acks = collections.defaultdict(lambda: ([], []))   # host -> (cfgs, times)
state = {"cfg": 0}


def monitor(sock_path):
    hs_host = {}
    for t, upd in ovsdb_stream.region_updates(sock_path, now):
        with cond:
            for rc in upd.get("Region", {}).values():
                new = rc.get("new")
                if new and "cfg" in new:
                    region_seen.setdefault(new["cfg"], t)
                    state["cfg"] = max(state["cfg"], new["cfg"])
            for uuid, rc in upd.get("Host_Status", {}).items():
                new = rc.get("new")
                if not new:
                    continue
                if "host" in new:
                    hs_host[uuid] = new["host"]
                h = hs_host.get(uuid)
                if h and "applied_cfg" in new:
                    a = new["applied_cfg"]
                    a = a if isinstance(a, int) else -1
                    cfgs, times = acks[h]
                    if not cfgs or a > cfgs[-1]:
                        cfgs.append(a)
                        times.append(t)
            cond.notify_all()


def ack_time(h, c):
    """First time host h acknowledged cfg >= c, or None (cond held)."""
    cfgs, times = acks[h]
    i = bisect.bisect_left(cfgs, c)
    return times[i] if i < len(cfgs) else None


def wait_acks(hs, c, timeout):
    end = now() + timeout
    with cond:
        while True:
            ts = [ack_time(h, c) for h in hs]
            if all(t is not None for t in ts):
                return max(ts) if ts else now()
            left = end - now()
            if left <= 0:
                return None
            cond.wait(left)


# --------------------------------------------------------------- agents
def status(h, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", agents[h][0],
                                   timeout=timeout)
    try:
        c.request("GET", "/v1/status")
        return json.loads(c.getresponse().read())
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        c.close()


POOL = cf.ThreadPoolExecutor(32)


def statuses(hs):
    return dict(zip(hs, POOL.map(status, hs)))


def counters(s):
    r = s.get("region_db", {}) if s else {}
    return {"updates": r.get("updates", 0),
            "tables": {k: v.get("changes", 0)
                       for k, v in r.get("tables", {}).items()}}


def wait_agents(pred, timeout, what):
    """Polls every agent until pred(status) holds for all; returns the
    time the last one was seen to hold it, or None on timeout."""
    left = set(hosts)
    end = now() + timeout
    last = now()
    while left and now() < end:
        todo = sorted(left)
        for h, s in zip(todo, POOL.map(status, todo)):
            if s and pred(h, s):
                left.discard(h)
                last = now()
        if left:
            # Each /v1/status counts the agent's replica: polling 1,000
            # agents back to back takes CPU from the relays.
            time.sleep(0.5)
    if left:
        log("%s: %d agents not there after %d s, e.g. %s: %s"
            % (what, len(left), timeout, sorted(left)[0],
               json.dumps(status(sorted(left)[0]))[:600]))
        return None
    return last


# ---------------------------------------------------------------- writes
class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("regiond", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.path)


def api(method, path, body):
    c = UnixHTTP(cfgf["regiond"])
    try:
        c.request(method, path,
                  body=None if body is None else json.dumps(body).encode(),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        text = r.read()
        return r.status, json.loads(text)
    finally:
        c.close()


doc = json.load(open(cfgf["region"]))
subnet_vpc = {s["id"]: s["vpc"] for s in doc["subnets"]}
vpc_hosts = collections.defaultdict(set)
for e in doc["enis"]:
    vpc_hosts[subnet_vpc[e["subnet"]]].add(e["host"])
peered = set()
for p in doc.get("peering_connections", []):
    peered |= {p["requester_vpc"], p["accepter_vpc"]}
running = set(hosts)
want = cfgf["hosts_per_vpc"]
cands = sorted(v for v, hs in vpc_hosts.items()
               if v not in peered and hs <= running and len(hs) == want)
if not cands:
    # The closest spread there is.
    best = min((abs(len(hs) - want), v) for v, hs in vpc_hosts.items()
               if v not in peered and hs <= running)[0]
    cands = sorted(v for v, hs in vpc_hosts.items()
                   if v not in peered and hs <= running
                   and abs(len(hs) - want) == best)
sgs = {g["id"]: g for g in doc["security_groups"]}
sg_lock = threading.Lock()
seq = {"n": 0}
used_ip = {(e["subnet"], e["private_ip"]) for e in doc["enis"]}
free = {}                               # subnet -> free addresses
for sn in doc["subnets"]:
    if sn["vpc"] in cands:
        net = sn["cidr"].split("/")[0].rsplit(".", 1)[0]
        free[sn["id"]] = [f"{net}.{i}" for i in range(4, 255)
                          if (sn["id"], f"{net}.{i}") not in used_ip]
added = collections.deque()             # ENIs the benchmark added
KINDS = cfgf.get("kinds", ["sg_rule_add", "eni_add", "eni_delete"])
out["vpcs_changed"] = len(cands)
out["vpc_hosts"] = sorted({len(vpc_hosts[v]) for v in cands})


def next_change():
    """The next change in the rotation of KINDS, each in a candidate VPC:
    (kind, VPC, method, path, body)."""
    with sg_lock:
        n = seq["n"]
        seq["n"] += 1
        kind = KINDS[n % len(KINDS)]
        if kind == "eni_delete" and not added:
            kind = "sg_rule_add"
        v = cands[n // len(KINDS) % len(cands)]
        vid = v[len("vpc-"):]
        if kind == "sg_rule_add":
            gid = "sg-%s-default" % vid
            g = json.loads(json.dumps(sgs[gid]))
            g.setdefault("ingress", []).append(
                {"protocol": "tcp", "from_port": 1024 + n % 60000,
                 "to_port": 1024 + n % 60000,
                 "cidr": "172.%d.%d.0/24" % (16 + n // 65536 % 16,
                                             n // 256 % 256)})
            sgs[gid] = g
            return kind, v, "PUT", "/v1/security_groups/" + gid, g
        if kind == "eni_add":
            sn = next((x for x in sorted(free)
                       if subnet_vpc[x] == v and free[x]), None)
            if sn is None:
                raise RuntimeError("%s: no free address left" % v)
            hs = sorted(vpc_hosts[v])
            e = {"id": "eni-sc-%06d" % n, "subnet": sn,
                 "mac": "0a:5c:%02x:%02x:%02x:01" % (n >> 16 & 255,
                                                     n >> 8 & 255, n & 255),
                 "private_ip": free[sn].pop(0),
                 "host": hs[n % len(hs)],
                 "security_groups": ["sg-%s-default" % vid]}
            added.append(e)
            return kind, v, "PUT", "/v1/enis/" + e["id"], e
        e = added.popleft()
        free[e["subnet"]].append(e["private_ip"])
        return kind, subnet_vpc[e["subnet"]], "DELETE", \
            "/v1/enis/" + e["id"], None


def one_write():
    """One change: its commit time, cfg, affected hosts, API ms."""
    kind, v, method, path, body = next_change()
    t0 = now()
    st, rep = api(method, path, body)
    t1 = now()
    if st != 200:
        raise RuntimeError("write refused: %s %s" % (st, str(rep)[:300]))
    c = rep["cfg"]
    with cond:
        commit = min(t1, region_seen.get(c, t1))
    return {"commit": commit, "cfg": c, "hosts": rep.get("hosts", []),
            "api_ms": (t1 - t0) * 1000, "vpc": v, "kind": kind}


def q(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * len(xs)))], 1) if xs else None


def settle(rows, timeout=30):
    """Adds 'prop_ms' (None: not acknowledged in time) to each write."""
    for r in rows:
        hs = [h for h in r["hosts"] if h in running]
        r["n_affected"] = len(hs)
        t = wait_acks(hs, r["cfg"], max(0.1, r["commit"] + timeout - now()))
        r["prop_ms"] = None if t is None else (t - r["commit"]) * 1000


def summary(rows):
    ps = [r["prop_ms"] for r in rows if r["prop_ms"] is not None]
    return {"n": len(rows), "lost": len(rows) - len(ps),
            "p50_ms": q(ps, .5), "p99_ms": q(ps, .99), "max_ms": q(ps, 1),
            "api_p50_ms": q([r["api_ms"] for r in rows], .5),
            "affected_hosts": sorted({r["n_affected"] for r in rows})}


# ================================================================ phases
threading.Thread(target=monitor, args=(cfgf["monitor_sock"],),
                 daemon=True).start()
time.sleep(0.5)

# Sync: the agents are started here, one after the other (each vpcd
# --detach returns once it runs), so that the monitor sees every
# acknowledgement arrive.
snap = cpu_snapshot()
with cond:
    cond.wait_for(lambda: state["cfg"] > 0, 30)
    cfg0 = state["cfg"]
t_start = now()
for h in hosts:
    r = subprocess.run(cfgf["agent_cmds"][h], stderr=subprocess.PIPE)
    if r.returncode:
        sys.exit("vpcd for %s did not start: %s"
                 % (h, r.stderr.decode(errors="replace")[-400:]))
t_started = now()
log("started %d agents in %.1f s" % (len(hosts), t_started - t_start))
t = wait_acks(hosts, cfg0, cfgf.get("sync_timeout", 1200))
if t is None:
    with cond:
        behind = [h for h in hosts if ack_time(h, cfg0) is None]
    sys.exit("sync: %d agents did not acknowledge cfg %d, e.g. %s"
             % (len(behind), cfg0, behind[:5]))
out["phases"]["sync"] = {"cfg": cfg0,
                         "start_s": round(t_started - t_start, 1),
                         "s": round(t - t_start, 1),
                         "after_last_start_s": round(t - t_started, 1),
                         "cpu": cpu_since(snap)}
log("sync: %d agents acknowledged cfg %d, %.1f s after the first started"
    % (len(hosts), cfg0, t - t_start))
st0 = statuses(hosts)
bad = [h for h, s in st0.items() if not s or not s.get("in_sync")]
out["agents_not_in_sync"] = len(bad)
scope = [s["region_db"]["tables"]["ENI"]["rows"] for s in st0.values() if s]
out["scope_enis"] = {"p50": q(scope, .5), "max": q(scope, 1)}
out["flows_per_agent"] = q([s["flows"] for s in st0.values() if s], .5)
out["memory_after_sync"] = {
    k: mem(pid_of(v[0]), rollup=k.startswith("agent "))
    for k, v in groups().items() if k != "all agents"}
rss_all = [mem(pid_of(agents[h][1])).get("VmRSS", 0) for h in hosts]
out["memory_after_sync"]["all agents"] = {
    "VmRSS_sum": sum(rss_all), "VmRSS_p50": q(rss_all, .5),
    "VmRSS_max": q(rss_all, 1)}

# Warm-up: vpc-regiond builds its validator on its first write.
w = one_write()
settle([w], timeout=60)
out["warmup_write_ms"] = round(w["api_ms"], 1)

# Propagation, one change at a time.
before = {h: counters(s) for h, s in statuses(hosts).items()}
snap = cpu_snapshot()
rows = []
budget = cfgf.get("prop_budget_s") or 1e9
t_prop = now()
for i in range(cfgf["changes"]):
    if now() - t_prop > budget:
        log("propagation: budget of %d s spent after %d changes"
            % (budget, len(rows)))
        break
    r = one_write()
    settle([r])
    with cond:
        fs = [ack_time(h, r["cfg"]) for h in r["hosts"] if h in running]
    fs = [t for t in fs if t is not None]
    r["first_ack_ms"] = fs and (min(fs) - r["commit"]) * 1000
    # One at a time: the next change once its affected hosts have
    # acknowledged it (settle).  The others never acknowledge it: a write
    # stamps only its VPCs (docs/regiondb.md, "Stamps"), so a host out of
    # them receives nothing; the unaffected counters below check that.
    rows.append(r)
    log("change %d %s: api %.0f ms, affected %d: first ack %s ms, last %s "
        "ms" % (i, r["kind"], r["api_ms"], r["n_affected"],
                r["first_ack_ms"] and round(r["first_ack_ms"]),
                r["prop_ms"] and round(r["prop_ms"])))
    time.sleep(0.02)
prop = summary(rows)
prop["changes_asked"] = cfgf["changes"]
prop["first_ack_p50_ms"] = q([r["first_ack_ms"] for r in rows
                              if r["first_ack_ms"]], .5)
prop["by_kind"] = {k: summary([r for r in rows if r["kind"] == k])
                   for k in sorted({r["kind"] for r in rows})}
prop["cpu"] = cpu_since(snap)
st1 = statuses(hosts)
after = {h: counters(s) for h, s in st1.items()}
# The agents' own share: vpcd's change_ms (update arrival to installed,
# here: compiled) on the affected hosts.
aff_hosts = sorted({h for r in rows for h in r["hosts"] if h in running})
prop["agent_change_ms_p50_of_p50"] = q(
    [st1[h]["region_db"]["change_ms_p50"] for h in aff_hosts if st1[h]], .5)
prop["agent_change_ms_p50_of_p99"] = q(
    [st1[h]["region_db"]["change_ms_p99"] for h in aff_hosts if st1[h]], .5)
affected = collections.Counter(h for r in rows for h in r["hosts"]
                               if h in running)
unaff = [h for h in hosts if h not in affected]
d_upd = {h: after[h]["updates"] - before[h]["updates"] for h in hosts}
tabs = collections.Counter()
for h in unaff:
    for k, v in after[h]["tables"].items():
        tabs[k] += v - before[h]["tables"].get(k, 0)
prop["unaffected"] = {
    "hosts": len(unaff),
    "updates_total": sum(d_upd[h] for h in unaff),
    "hosts_with_updates": sum(1 for h in unaff if d_upd[h] > 0),
    "row_changes_by_table": {k: v for k, v in sorted(tabs.items()) if v}}
prop["affected_updates_per_change"] = round(
    sum(d_upd[h] for h in affected) / max(1, sum(affected.values())), 2)
out["phases"]["propagation"] = prop
json.dump(out, open(cfgf["out"], "w"), indent=1)    # Partial results.
log("propagation: %s" % json.dumps({k: prop[k] for k in
                                     ("n", "p50_ms", "p99_ms", "max_ms")}))
log("unaffected hosts: %s" % json.dumps(prop["unaffected"]))

# Sustained write rate: open loop, steps of increasing rate.
steps = []
for rate in cfgf["rates"]:
    n = max(10, int(rate * cfgf["step_s"]))
    snap = cpu_snapshot()
    t0 = now()
    futs = []
    with cf.ThreadPoolExecutor(16) as ex:
        for i in range(n):
            delay = t0 + i / rate - now()
            if delay > 0:
                time.sleep(delay)
            futs.append(ex.submit(one_write))
        rs = [f.result() for f in futs]
    settle(rs)
    cs = sorted(r["commit"] for r in rs)
    s = summary(rs)
    s.update({"offered_per_s": rate,
              "committed_per_s": round((n - 1) / max(cs[-1] - cs[0], 1e-6),
                                       1),
              "cpu": cpu_since(snap)})
    steps.append(s)
    log("rate %s/s: committed %.1f/s, p50 %s p99 %s ms, lost %d"
        % (rate, s["committed_per_s"], s["p50_ms"], s["p99_ms"], s["lost"]))
    if s["lost"] or s["p99_ms"] is None or s["p99_ms"] > 100 \
       or s["committed_per_s"] < 0.8 * rate:
        break
    time.sleep(1)
ok = [s for s in steps if not s["lost"] and s["p99_ms"] is not None
      and s["p99_ms"] <= 100 and s["committed_per_s"] >= 0.8 *
      s["offered_per_s"]]
json.dump(out, open(cfgf["out"], "w"), indent=1)
out["phases"]["write_rate"] = {
    "steps": steps,
    "max_per_s_with_p99_under_100ms":
        max((s["committed_per_s"] for s in ok), default=None)}

# Mass reconnect: every relay restarted at once.  Each agent must come
# back to (at least) the cfg it had acknowledged before: with stamps that
# is the largest stamp of its scope, not the region's cfg.
applied_before = {h: (s or {}).get("region_db", {}).get("applied_cfg", 0)
                  for h, s in statuses(hosts).items()}
snap = cpu_snapshot()
t0 = now()
subprocess.run(["bash", "-c", cfgf["restart_relays"]], check=True)
t_relays = now()


def reconnected(h, s):
    r = s.get("region_db", {})
    return (r.get("connected") and not r.get("waiting_for_conditions")
            and s.get("in_sync")
            and r.get("applied_cfg", -1) >= applied_before[h])


t_conn = wait_agents(reconnected, cfgf.get("sync_timeout", 1200),
                     "reconnect")
rc = {"relays_restart_s": round(t_relays - t0, 2)}
if t_conn is not None:
    rc["all_connected_in_sync_s"] = round(t_conn - t0, 2)
    r = one_write()
    settle([r])
    rc["change_after_s"] = (None if r["prop_ms"] is None else
                            round(r["commit"] + r["prop_ms"] / 1000 - t0, 2))
    rc["change_prop_ms"] = r["prop_ms"] and round(r["prop_ms"], 1)
rc["cpu"] = cpu_since(snap)
out["phases"]["reconnect"] = rc
log("reconnect: %s" % json.dumps({k: v for k, v in rc.items()
                                   if k != "cpu"}))

out["memory_end"] = {k: mem(pid_of(v[0]), rollup=k.startswith("agent "))
                     for k, v in groups().items() if k != "all agents"}
json.dump(out, open(cfgf["out"], "w"), indent=1)
json.dump(rows, open(cfgf["out"].replace(".json", "-changes.json"), "w"))

# The table.
P = out["phases"]
print("== bench-scale: %d agents, scope p50 %s ENIs, %s flows per agent"
      % (len(hosts), out["scope_enis"]["p50"], out["flows_per_agent"]))
print("%-44s %.1f s (starting them took %.1f s)"
      % ("sync (first agent started to all acked)", P["sync"]["s"],
         P["sync"]["start_s"]))
p = P["propagation"]
print("%-44s p50 %s  p99 %s  max %s ms  (n=%d, %s hosts each, lost %d)"
      % ("propagation (commit -> last affected ack)", p["p50_ms"],
         p["p99_ms"], p["max_ms"], p["n"], p["affected_hosts"], p["lost"]))
for k, s in p["by_kind"].items():
    print("%-44s p50 %s  p99 %s  max %s ms  (n=%d)"
          % ("  " + k, s["p50_ms"], s["p99_ms"], s["max_ms"], s["n"]))
print("%-44s first affected ack p50 %s ms"
      % ("", p["first_ack_p50_ms"]))
print("%-44s p50 %s ms, p99 %s ms (medians over the affected agents)"
      % ("  of which in the agent (vpcd change_ms)",
         p["agent_change_ms_p50_of_p50"], p["agent_change_ms_p50_of_p99"]))
u = p["unaffected"]
print("%-44s %d updates on %d of %d hosts; rows %s"
      % ("updates to unaffected hosts", u["updates_total"],
         u["hosts_with_updates"], u["hosts"], u["row_changes_by_table"]))
for s in P["write_rate"]["steps"]:
    print("%-44s committed %5.1f/s  p50 %s  p99 %s ms  lost %d"
          % ("write rate %s/s" % s["offered_per_s"], s["committed_per_s"],
             s["p50_ms"], s["p99_ms"], s["lost"]))
print("%-44s %s/s" % ("sustained rate with p99 <= 100 ms" if steps
                      else "write rate: not measured (RATES empty)",
                      P["write_rate"]["max_per_s_with_p99_under_100ms"]))
print("%-44s relays %s s; all in sync %s s; a change after: %s s"
      % ("mass reconnect (relays restarted)", rc["relays_restart_s"],
         rc.get("all_connected_in_sync_s"), rc.get("change_after_s")))
print("%-28s %9s %9s %14s %14s %14s"
      % ("process", "RSS MiB", "HWM MiB", "CPU sync", "CPU propag.",
         "CPU reconnect"))
for k in groups():
    m = out["memory_end"].get(k) or out["memory_after_sync"].get(k, {})
    if k == "all agents":
        m = {"VmRSS": out["memory_after_sync"]["all agents"]["VmRSS_sum"],
             "VmHWM": "-"}
    print("%-28s %9s %9s %8s cores %8s cores %8s cores"
          % (k, m.get("VmRSS", "-"), m.get("VmHWM", "-"),
             P["sync"]["cpu"][k]["cores"], p["cpu"][k]["cores"],
             rc["cpu"][k]["cores"]))
a = out["memory_end"]["agent " + hosts[0]]
print("one agent: Pss %s MiB, private %s MiB, shared clean %s MiB"
      % (a.get("Pss"), a.get("Private_Dirty", 0) + a.get("Private_Clean", 0),
         a.get("Shared_Clean")))
print("results: %s" % cfgf["out"])

#!/usr/bin/env python3
"""bench/ovn/ovsdb.py: the OVSDB bits of bench/bench-ovn.sh (python3 stdlib).

A minimal JSON-RPC client on a unix socket: `ovsdb-client transact` takes
the transaction as one command-line argument, and Linux caps a single
argument at 128 KiB (MAX_ARG_STRLEN), which a 10,000-ENI export exceeds.

  ovsdb.py transact SOCK FILE
      send the transaction in FILE ("-": stdin) as is; exit 1 on any error.
  ovsdb.py chassis SOCK REGION LOCAL_HOST
      insert a Chassis (+ its Geneve Encap, at the host's underlay_ip) for
      every host of REGION except LOCAL_HOST, in one transaction.  No
      Chassis_Private rows: these are "remote" chassis without an
      ovn-controller, which northd leaves out of hv_cfg (--wait=hv).
  ovsdb.py bind SOCK REGION LOCAL_HOST
      set Port_Binding.chassis of every ENI of REGION not on LOCAL_HOST to
      its host's chassis (what the remote ovn-controllers would do when
      they claim their ports), in one transaction; prints "BOUND MISSING".
  ovsdb.py add-eni OUT REGION HOST K
      writes into OUT one more ENI on HOST in the subnet (and security groups) of an ENI of
      HOST whose VPC spans several hosts (the one bench/put_latency.py
      picks), as one NB transaction: the Logical_Switch_Port, the switch's
      ports, its port groups' ports and the referencing address sets.
      Prints "NAME MAC IP".  (Sent by the caller, so that python's start
      and the region's parsing are not part of the measured latency.)
"""
import json, socket, sys


def rpc(sock, method, params):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(json.dumps({"method": method, "params": params, "id": 0}).encode())
    dec, raw = json.JSONDecoder(), b""
    while True:
        data = s.recv(1 << 20)
        if not data:
            sys.exit("ovsdb.py: connection closed")
        raw += data
        try:
            msg, end = dec.raw_decode(raw.decode())
        except ValueError:            # incomplete (or split UTF-8): read on
            continue
        if msg.get("id") != 0:        # not our reply (e.g. an echo): drop it
            raw = raw.decode()[end:].encode()
            continue
        s.close()
        if msg.get("error"):
            sys.exit("ovsdb.py: %s" % msg["error"])
        return msg["result"]


def transact(sock, ops):
    res = rpc(sock, "transact", ops)
    bad = [r for r in res if isinstance(r, dict) and "error" in r]
    if bad or len(res) < len(ops) - 1:
        sys.exit("ovsdb.py: transaction failed: %s" % json.dumps(bad[:3])[:2000])
    return res


def select(sock, db, table, cols):
    return transact(sock, [db, {"op": "select", "table": table, "where": [],
                                "columns": cols}])[0]["rows"]


def main():
    cmd, sock = sys.argv[1], sys.argv[2]
    if cmd == "transact":
        f = sys.stdin if sys.argv[3] == "-" else open(sys.argv[3])
        transact(sock, json.load(f))
        return
    region = json.load(open(sys.argv[3]))
    local = sys.argv[4]
    if cmd == "chassis":
        ops = ["OVN_Southbound"]
        for i, h in enumerate(region["hosts"]):
            if h["id"] == local:
                continue
            ops.append({"op": "insert", "table": "Encap", "uuid-name": "e%d" % i,
                        "row": {"type": "geneve", "ip": h["underlay_ip"],
                                "chassis_name": h["id"],
                                "options": ["map", [["csum", "true"]]]}})
            ops.append({"op": "insert", "table": "Chassis",
                        "row": {"name": h["id"], "hostname": h["id"],
                                "encaps": ["named-uuid", "e%d" % i]}})
        transact(sock, ops)
    elif cmd == "bind":
        host_of = {e["id"]: e["host"] for e in region["enis"]}
        ch = {r["name"]: r["_uuid"] for r in
              select(sock, "OVN_Southbound", "Chassis", ["_uuid", "name"])}
        ops, missing = ["OVN_Southbound"], 0
        for r in select(sock, "OVN_Southbound", "Port_Binding",
                        ["_uuid", "logical_port"]):
            h = host_of.get(r["logical_port"])
            if h is None or h == local:
                continue
            if h not in ch:
                missing += 1
                continue
            ops.append({"op": "update", "table": "Port_Binding",
                        "where": [["_uuid", "==", r["_uuid"]]],
                        "row": {"chassis": ch[h]}})
        transact(sock, ops)
        print(len(ops) - 1, missing)
    elif cmd == "add-eni":
        k = int(sys.argv[5])
        sv = {s["id"]: s["vpc"] for s in region["subnets"]}
        cidr = {s["id"]: s["cidr"] for s in region["subnets"]}
        hosts_of = {}
        for e in region["enis"]:
            hosts_of.setdefault(sv[e["subnet"]], set()).add(e["host"])
        pick = next(e for e in region["enis"] if e["host"] == local
                    and len(hosts_of[sv[e["subnet"]]]) > 1)
        sub = pick["subnet"]
        used = {e["private_ip"] for e in region["enis"] if e["subnet"] == sub}
        net = cidr[sub].split("/")[0].rsplit(".", 1)[0]
        free = [f"{net}.{i}" for i in range(4, 255) if f"{net}.{i}" not in used]
        name, mac, ip = ("eni-ovnbench-%d" % k, "0a:be:%02x:%02x:00:01" % (k // 256, k % 256),
                         free[k % len(free)])
        addr = "%s %s" % (mac, ip)
        ops = ["OVN_Northbound",
               {"op": "insert", "table": "Logical_Switch_Port", "uuid-name": "p",
                "row": {"name": name, "addresses": addr, "port_security": addr,
                        "options": ["map", [["requested-chassis", local]]]}},
               {"op": "mutate", "table": "Logical_Switch", "where": [["name", "==", sub]],
                "mutations": [["ports", "insert", ["named-uuid", "p"]]]}]
        pgs = set()
        for g in pick.get("security_groups", []):
            san = "".join(c if c.isalnum() else "_" for c in g)
            pgs.add(san)
            ops.append({"op": "mutate", "table": "Port_Group",
                        "where": [["name", "==", "pg_" + san]],
                        "mutations": [["ports", "insert", ["named-uuid", "p"]]]})
        # Address sets of the groups exist only if some rule references them;
        # a mutate that matches no row is not an error.
        for san in pgs:
            ops.append({"op": "mutate", "table": "Address_Set",
                        "where": [["name", "==", "as_" + san]],
                        "mutations": [["addresses", "insert", ip]]})
        with open(sock, "w") as f:
            json.dump(ops, f)
        print(name, mac, ip)
    else:
        sys.exit("ovsdb.py: unknown command " + cmd)


if __name__ == "__main__":
    main()

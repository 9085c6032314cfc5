#!/usr/bin/env python3
"""bench/gen-region.py: a synthetic, valid region document for benchmarks.

Deterministic for a given seed and options (python3 stdlib only).  Defaults:
10,000 VPCs, 100,000 ENIs on 1,000 hosts (host-0000..host-0999, underlay
10.128.x.y), about 20,000 security-group rules, 5,000 routes, 1,000 VPC
peerings, network ACLs on some subnets, 4 edges and internet gateways on
some VPCs.

Shape:
  * VPC sizes follow a capped Pareto law (every VPC has >= 1 ENI).
  * Unpeered VPCs all use 10.0.0.0/16 (overlap across VPCs is allowed).
    Peered VPCs get distinct, disjoint 10.x.y.0/20 blocks so that no peering
    joins overlapping VPCs.
  * Subnets are /24s; ENI addresses avoid the first 4 and the last address.
  * ENIs of a VPC are spread over ceil(n/3) hosts, least-loaded first
    (random tie-break), so each host holds ~enis/hosts ENIs from tens of
    VPCs and each VPC lives on several hosts.
  * Every VPC has a default SG (ingress from itself, egress to anywhere);
    VPCs with an internet gateway add a web SG; each peering adds an SSH
    rule referencing the peer VPC's default SG.
  * Routes: 0/0 -> igw, peer block -> pcx (both sides), some blackhole
    routes and some appliance routes to an ENI with source_dest_check off.

Usage: gen-region.py [--vpcs N] [--enis N] [--hosts N] [--seed S] [--out F]
"""

import argparse
import heapq
import json
import math
import random
import sys


def ip_str(n):
    return "%d.%d.%d.%d" % (n >> 24 & 255, n >> 16 & 255, n >> 8 & 255,
                            n & 255)


def ip_int(a, b, c, d):
    return a << 24 | b << 16 | c << 8 | d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vpcs", type=int, default=10000)
    ap.add_argument("--enis", type=int, default=100000)
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="-")
    ap.add_argument("--peerings", type=int, default=None,
                    help="default: vpcs / 10")
    a = ap.parse_args()

    V, E, H = a.vpcs, a.enis, a.hosts
    if V < 2 or E < V or H < 1:
        sys.exit("need vpcs >= 2, enis >= vpcs, hosts >= 1")
    if H > 250 * 256:
        sys.exit("at most 64000 hosts")
    rng = random.Random(a.seed)
    n_pcx = a.peerings if a.peerings is not None else V // 10

    # ---------------------------------------------------------- hosts, edges
    hosts = [{"id": "host-%04d" % h,
              "underlay_ip": ip_str(ip_int(10, 128, h // 250, h % 250 + 1))}
             for h in range(H)]
    edges = [{"id": "edge-%d" % k, "underlay_ip": "10.129.0.%d" % (k + 1)}
             for k in range(4)]

    # ------------------------------------------------------------ VPC sizes
    w = [min(rng.paretovariate(1.5), 60.0) for _ in range(V)]
    sw = sum(w)
    extra = E - V
    sizes = [1 + int(extra * x / sw) for x in w]
    left = E - sum(sizes)
    while left > 0:
        sizes[rng.randrange(V)] += 1
        left -= 1

    # ------------------------------------------------------------- peerings
    # Peered VPCs: distinct /20s in 10.1.0.0 .. 10.255.240.0 (4080 blocks).
    peered_n = min(V, max(2, (n_pcx * 3) // 2)) if n_pcx else 0
    if peered_n > 4080:
        sys.exit("too many peered VPCs for distinct /20 blocks")
    peered = sorted(rng.sample(range(V), peered_n)) if peered_n else []
    block = {}
    for k, v in enumerate(peered):
        block[v] = (ip_int(10, 1 + k // 16, (k % 16) * 16, 0), 20)
    pairs = set()
    attempts = 0
    while len(pairs) < n_pcx and attempts < n_pcx * 50:
        attempts += 1
        x, y = rng.sample(peered, 2)
        pairs.add((min(x, y), max(x, y)))
    pairs = sorted(pairs)

    def vpc_block(v):
        return block.get(v, (ip_int(10, 0, 0, 0), 16))

    def vpc_cidr(v):
        b, plen = vpc_block(v)
        return "%s/%d" % (ip_str(b), plen)

    # ----------------------------------------------------------- placement
    cap_heap = [(0, rng.random(), h) for h in range(H)]
    heapq.heapify(cap_heap)
    order = sorted(range(V), key=lambda v: (-sizes[v], v))
    placement = {}                      # vpc -> list of host indexes
    for v in order:
        n = sizes[v]
        m = min(H, max(1, math.ceil(n / 3)))
        chosen = [heapq.heappop(cap_heap) for _ in range(m)]
        share = [n // m + (1 if i < n % m else 0) for i in range(m)]
        hl = []
        for (load, _, h), s in zip(chosen, share):
            hl.append((h, s))
            heapq.heappush(cap_heap, (load + s, rng.random(), h))
        # Interleave the ENIs over the hosts.
        seq = []
        rem = dict(hl)
        while len(seq) < n:
            for h, _ in hl:
                if rem[h]:
                    seq.append(h)
                    rem[h] -= 1
        placement[v] = seq

    # ---------------------------------------------------- per-VPC features
    igw = set(v for v in range(V) if rng.random() < 0.15)
    blackhole = set(v for v in range(V) if rng.random() < 0.10)
    appliance = set(v for v in range(V) if sizes[v] >= 5
                    and rng.random() < 0.10)
    nacl_vpcs = set(v for v in range(V) if rng.random() < 0.10)
    peers_of = {}
    for x, y in pairs:
        peers_of.setdefault(x, []).append(y)
        peers_of.setdefault(y, []).append(x)

    def vid(v):
        return "vpc-%05d" % v

    vpcs, sgs, nacls, rtbs, subnets, enis, igws, pcxs = ([] for _ in range(8))
    sg_default = {}
    for v in range(V):
        vpcs.append({"id": vid(v), "cidr_blocks": [vpc_cidr(v)],
                     "vni": v + 1})
    for k, (x, y) in enumerate(pairs):
        pcxs.append({"id": "pcx-%05d" % k, "requester_vpc": vid(x),
                     "accepter_vpc": vid(y)})

    ssh_from = {}                       # requester -> accepters
    for x, y in pairs:
        ssh_from.setdefault(x, []).append(y)

    eni_no = 0
    eip_no = 0
    for v in range(V):
        n = sizes[v]
        b, plen = vpc_block(v)
        # Subnets: /24s, enough to hold the ENIs (251 usable each).
        nsub = max(1 + (n > 3) + (n > 20), math.ceil(n / 250))
        max_sub = 1 << (24 - plen)
        if nsub > max_sub:
            sys.exit("VPC %d too large for its block" % v)

        # Security groups.
        dsg = "sg-%05d-default" % v
        sg_default[v] = dsg
        ingress = [{"protocol": "-1", "security_group": dsg}]
        for y in ssh_from.get(v, []):
            ingress.append({"protocol": "tcp", "from_port": 22,
                            "to_port": 22,
                            "security_group": "sg-%05d-default" % y})
        sgs.append({"id": dsg, "vpc": vid(v), "ingress": ingress,
                    "egress": [{"protocol": "-1", "cidr": "0.0.0.0/0"}]})
        eni_sgs = [dsg]
        if v in igw:
            wsg = "sg-%05d-web" % v
            sgs.append({"id": wsg, "vpc": vid(v), "ingress": [
                {"protocol": "tcp", "from_port": 443, "to_port": 443,
                 "cidr": "0.0.0.0/0"}], "egress": []})
            eni_sgs = [dsg, wsg]

        # Network ACL.
        acl = None
        if v in nacl_vpcs:
            acl = "acl-%05d" % v
            rules = [{"rule_number": 90, "action": "deny", "protocol": "tcp",
                      "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0"},
                     {"rule_number": 100, "action": "allow",
                      "protocol": "-1", "cidr": "0.0.0.0/0"}]
            nacls.append({"id": acl, "vpc": vid(v), "ingress": rules,
                          "egress": rules})

        first_eni = eni_no             # an appliance route targets it
        # Route table.
        routes = []
        if v in igw:
            igws.append({"id": "igw-%05d" % v, "vpc": vid(v),
                         "edge": "edge-%d" % (v % 4)})
            routes.append({"destination": "0.0.0.0/0",
                           "target": "igw-%05d" % v})
        # (peering routes are appended below, once pcx ids are known)
        vpc_routes = routes
        if v in blackhole:
            vpc_routes.append({"destination": "192.0.2.0/24",
                               "target": "blackhole"})
        if v in appliance:
            vpc_routes.append({"destination": "192.168.0.0/16",
                               "target": "eni-%06d" % first_eni})
        subnet_ids = []
        for s in range(nsub):
            sid = "subnet-%05d-%d" % (v, s)
            subnet_ids.append(sid)
            sub = {"id": sid, "vpc": vid(v),
                   "cidr": "%s/24" % ip_str(b + (s << 8)),
                   "availability_zone": "az-%d" % (s % 3 + 1)}
            if acl and s == 0:
                sub["network_acl"] = acl
            subnets.append(sub)
        # Route table object; routes appended after pcx map is known.
        rtbs.append({"id": "rtb-%05d" % v, "vpc": vid(v),
                     "routes": vpc_routes, "_subnets": subnet_ids})

        hosts_seq = placement[v]
        for i in range(n):
            s = i % nsub
            k = i // nsub               # 0..250
            e = {"id": "eni-%06d" % eni_no, "subnet": subnet_ids[s],
                 "host": hosts[hosts_seq[i]]["id"],
                 "mac": "02:00:%02x:%02x:%02x:%02x" % (
                     eni_no >> 24 & 255, eni_no >> 16 & 255,
                     eni_no >> 8 & 255, eni_no & 255),
                 "private_ip": ip_str(b + (s << 8) + 4 + k),
                 "security_groups": eni_sgs}
            if v in igw and i == 0:
                e["elastic_ip"] = ip_str(ip_int(44, 0, 0, 0) + eip_no)
                eip_no += 1
            if v in appliance and i == 0:
                e["source_dest_check"] = False
            enis.append(e)
            eni_no += 1

    # Peering routes, both sides.
    pcx_id = {p: "pcx-%05d" % k for k, p in enumerate(pairs)}
    for x, y in pairs:
        for a_, b_ in ((x, y), (y, x)):
            rtbs[a_]["routes"].append({"destination": vpc_cidr(b_),
                                       "target": pcx_id[(x, y)]})
    route_tables = []
    sub_index = {s["id"]: s for s in subnets}
    for r in rtbs:
        sids = r.pop("_subnets")
        if r["routes"]:
            route_tables.append(r)
            for sid in sids:
                sub_index[sid]["route_table"] = r["id"]

    doc = {
        "description": "synthetic region: seed %d, %d VPCs, %d ENIs, %d "
                       "hosts" % (a.seed, V, E, H),
        "hosts": hosts, "edges": edges, "vpcs": vpcs,
        "peering_connections": pcxs, "security_groups": sgs,
        "network_acls": nacls, "route_tables": route_tables,
        "subnets": subnets, "enis": enis, "internet_gateways": igws,
    }
    out = sys.stdout if a.out == "-" else open(a.out, "w")
    # One object per line: compact, yet greppable.
    out.write("{\n")
    keys = list(doc)
    for ki, key in enumerate(keys):
        val = doc[key]
        out.write("  %s: " % json.dumps(key))
        if isinstance(val, list):
            out.write("[\n")
            for i, o in enumerate(val):
                out.write("    " + json.dumps(o, separators=(",", ":")))
                out.write(",\n" if i + 1 < len(val) else "\n")
            out.write("  ]")
        else:
            out.write(json.dumps(val))
        out.write(",\n" if ki + 1 < len(keys) else "\n")
    out.write("}\n")
    if out is not sys.stdout:
        out.close()

    n_sg_rules = sum(len(s["ingress"]) + len(s["egress"]) for s in sgs)
    n_routes = sum(len(r["routes"]) for r in route_tables)
    print("gen-region: %d VPCs, %d subnets, %d ENIs, %d hosts, %d SGs "
          "(%d rules), %d NACLs, %d route tables (%d routes), %d peerings, "
          "%d IGWs" % (V, len(subnets), E, H, len(sgs), n_sg_rules,
                       len(nacls), len(route_tables), n_routes, len(pcxs),
                       len(igws)), file=sys.stderr)


if __name__ == "__main__":
    main()

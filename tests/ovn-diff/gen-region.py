#!/usr/bin/env python3
"""tests/ovn-diff/gen-region.py SEED: a small random region for the
differential test against OVN (tests/ovn-diff/README.md).

The same seed always gives the same document.  The regions are small (3
hosts, 2-4 VPCs, up to ~20 ENIs) but dense in the features where two
implementations can disagree:

- VPC blocks drawn from a pool of three /16s, so VPCs overlap often (same
  private addresses in different VPCs; overlapping VPCs are never peered);
- peering between some non-overlapping pairs, with routes to all of the
  peer, to one subnet of it, or none (asymmetric routing: one side only);
- security groups with port ranges, ICMP types, CIDR peers and references
  to other groups (same VPC or a peered one), sometimes restricted egress;
- route tables with more-specific routes: blackholes, appliance ENIs
  (source_dest_check false), routes inside the VPC's own block;
- now and then a network ACL or an internet gateway with a default route
  (features the OVN export leaves out; the harness must explain them).

Prints the document on stdout.  It is valid by construction; the harness
runs 'vpcctl validate' on it anyway.
"""
import ipaddress
import json
import random
import sys

POOL = ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"]
HOSTS = [("host-a", "192.168.100.1"), ("host-b", "192.168.100.2"),
         ("host-c", "192.168.100.3")]
EDGE = ("edge-1", "192.168.100.254")
PORTS = [22, 80, 443, 5432, 8080]


def overlaps(a, b):
    return ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b))


def sg_rule(rnd, direction, vpc, groups):
    """One random security-group rule; 'groups' are the ids it may name."""
    kind = rnd.choice(["all", "tcp", "tcp-range", "udp", "icmp", "ref"])
    if kind == "ref" and not groups:
        kind = "tcp"
    rule = {}
    if kind == "all":
        rule["protocol"] = "-1"
    elif kind in ("tcp", "tcp-range"):
        lo = rnd.choice(PORTS)
        hi = lo if kind == "tcp" else lo + rnd.choice([0, 1, 100, 1000])
        rule.update(protocol="tcp", from_port=lo, to_port=hi)
    elif kind == "udp":
        rule.update(protocol="udp", from_port=53, to_port=53)
    elif kind == "icmp":
        rule.update(protocol="icmp", icmp_type=rnd.choice([-1, 8]))
    else:
        rule.update(protocol=rnd.choice(["-1", "tcp"]))
        if rule["protocol"] == "tcp":
            rule.update(from_port=5432, to_port=5432)
        rule["security_group"] = rnd.choice(groups)
        return rule
    rule["cidr"] = rnd.choice(["0.0.0.0/0", "10.0.0.0/8", vpc["cidr_blocks"][0],
                               "10.1.0.0/16", "10.0.1.0/24"])
    return rule


def nacl(rnd, acl_id, vpc):
    """A network ACL where order matters: an allow before a deny of the
    same port, denies of ports and ranges, sometimes no catch-all allow
    (the implicit deny then decides)."""
    ssh_from = rnd.choice(["10.1.0.0/16", vpc["cidr_blocks"][0]])
    ingress = [{"rule_number": 90, "action": "deny", "protocol": "tcp",
                "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0"}]
    if rnd.random() < 0.5:
        ingress.append({"rule_number": 80, "action": "allow",
                        "protocol": "tcp", "from_port": 22, "to_port": 22,
                        "cidr": ssh_from})
    if rnd.random() < 0.5:
        ingress.append({"rule_number": 95, "action": "deny",
                        "protocol": "tcp", "from_port": 5000,
                        "to_port": 6000, "cidr": "10.0.0.0/8"})
    ingress.append({"rule_number": 100, "action": "allow", "protocol": "-1",
                    "cidr": "0.0.0.0/0"})
    if rnd.random() < 0.5:
        egress = [{"rule_number": 100, "action": "allow", "protocol": "-1",
                   "cidr": "0.0.0.0/0"}]
    else:
        egress = [{"rule_number": 10, "action": "deny", "protocol": "udp",
                   "from_port": 53, "to_port": 53, "cidr": "0.0.0.0/0"},
                  {"rule_number": 20, "action": "allow", "protocol": "tcp",
                   "from_port": 0, "to_port": 65535, "cidr": "10.0.0.0/8"},
                  {"rule_number": 30, "action": "allow", "protocol": "icmp",
                   "icmp_type": 8, "cidr": "0.0.0.0/0"}]
    return {"id": acl_id, "vpc": vpc["id"], "ingress": ingress,
            "egress": egress}


def generate(seed):
    rnd = random.Random(seed)
    doc = {
        "description": "ovn-diff random region, seed %d" % seed,
        "hosts": [{"id": h, "underlay_ip": ip} for h, ip in HOSTS],
        "edges": [],
        "vpcs": [], "peering_connections": [], "security_groups": [],
        "network_acls": [], "route_tables": [], "subnets": [], "enis": [],
        "internet_gateways": [],
    }
    n_vpcs = rnd.randint(2, 4)
    for v in range(n_vpcs):
        doc["vpcs"].append({"id": "vpc-%d" % v, "vni": 100 + v,
                            "cidr_blocks": [rnd.choice(POOL)]})
    vpcs = doc["vpcs"]

    # Peering: every non-overlapping pair, with probability 1/2.
    peers = {v["id"]: [] for v in vpcs}
    for i in range(n_vpcs):
        for j in range(i + 1, n_vpcs):
            a, b = vpcs[i], vpcs[j]
            if overlaps(a["cidr_blocks"][0], b["cidr_blocks"][0]):
                continue
            if rnd.random() < 0.5:
                pcx = "pcx-%d%d" % (i, j)
                doc["peering_connections"].append(
                    {"id": pcx, "requester_vpc": a["id"],
                     "accepter_vpc": b["id"]})
                peers[a["id"]].append((pcx, b))
                peers[b["id"]].append((pcx, a))

    # Subnets and ENIs.
    mac = 0
    subnets = {v["id"]: [] for v in vpcs}
    enis = {v["id"]: [] for v in vpcs}
    for v, vpc in enumerate(vpcs):
        base = ipaddress.ip_network(vpc["cidr_blocks"][0])
        for s in range(rnd.randint(1, 2)):
            net = list(base.subnets(new_prefix=24))[s + 1]
            sub = {"id": "subnet-%d-%d" % (v, s), "vpc": vpc["id"],
                   "cidr": str(net)}
            doc["subnets"].append(sub)
            subnets[vpc["id"]].append(sub)
            for e in range(rnd.randint(1, 3)):
                mac += 1
                eni = {"id": "eni-%d-%d-%d" % (v, s, e), "subnet": sub["id"],
                       "host": rnd.choice(HOSTS)[0],
                       "mac": "02:00:00:00:%02x:%02x" % (mac >> 8, mac & 255),
                       "private_ip": str(net[10 + 10 * e])}
                doc["enis"].append(eni)
                enis[vpc["id"]].append(eni)

    # Security groups: one or two per VPC; every ENI in at least one.
    for v, vpc in enumerate(vpcs):
        ids = ["sg-%d-%d" % (v, g) for g in range(rnd.randint(1, 2))]
        refs = list(ids) + ["sg-%d-0" % int(p["id"][4:])
                            for _, p in peers[vpc["id"]]]
        for sg_id in ids:
            sg = {"id": sg_id, "vpc": vpc["id"],
                  "ingress": [sg_rule(rnd, "in", vpc, refs)
                              for _ in range(rnd.randint(1, 3))]}
            if rnd.random() < 0.7:
                sg["egress"] = [{"protocol": "-1", "cidr": "0.0.0.0/0"}]
            else:
                sg["egress"] = [sg_rule(rnd, "out", vpc, refs)
                                for _ in range(rnd.randint(1, 2))]
            doc["security_groups"].append(sg)
        for eni in enis[vpc["id"]]:
            eni["security_groups"] = sorted(set(
                rnd.choice(ids) for _ in range(rnd.randint(1, 2))))

    # Route tables: peering routes, more-specific routes, gateways.
    for v, vpc in enumerate(vpcs):
        routes = []
        for pcx, peer in peers[vpc["id"]]:
            r = rnd.random()
            if r < 0.5:
                dest = peer["cidr_blocks"][0]
            elif r < 0.8:
                dest = rnd.choice(subnets[peer["id"]])["cidr"]
            else:
                continue
            # Two peers may overlap each other: one route per destination.
            if all(x["destination"] != dest for x in routes):
                routes.append({"destination": dest, "target": pcx})
        own = subnets[vpc["id"]]
        if rnd.random() < 0.3:
            # A blackhole for part of the first subnet (a /28 inside it).
            net = ipaddress.ip_network(own[0]["cidr"])
            routes.append({"destination": str(list(net.subnets(4))[1]),
                           "target": "blackhole"})
        if len(enis[vpc["id"]]) > 1 and rnd.random() < 0.4:
            # An appliance: traffic to the last subnet (or a /25 of it)
            # goes through the first ENI of the VPC.
            app = enis[vpc["id"]][0]
            app["source_dest_check"] = False
            net = ipaddress.ip_network(own[-1]["cidr"])
            dest = net if rnd.random() < 0.5 else list(net.subnets(1))[1]
            routes.append({"destination": str(dest), "target": app["id"]})
        if rnd.random() < 0.3:
            igw = "igw-%d" % v
            doc["internet_gateways"].append({"id": igw, "vpc": vpc["id"]})
            routes.append({"destination": "0.0.0.0/0", "target": igw})
        if not routes:
            continue
        rtb = {"id": "rtb-%d" % v, "vpc": vpc["id"], "routes": routes}
        doc["route_tables"].append(rtb)
        for sub in own:
            if rnd.random() < 0.8:
                sub["route_table"] = rtb["id"]
        if rnd.random() < 0.3:
            doc["network_acls"].append(nacl(rnd, "acl-%d" % v, vpc))
            own[0]["network_acl"] = "acl-%d" % v

    if doc["internet_gateways"]:
        doc["edges"].append({"id": EDGE[0], "underlay_ip": EDGE[1]})
    return {k: v for k, v in doc.items() if v != []}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: gen-region.py SEED")
    json.dump(generate(int(sys.argv[1])), sys.stdout, indent=1)
    print()

#!/usr/bin/env python3
"""bench/remote-region.py N OUT: a VPC whose ENIs are all remote but one.

The region of bench/bench-ovs-ext.sh parts 2 and 3 and of bench-ovn's
datapath part: one VPC "vpc-b" (VNI 100, one /16 block and subnet per 65,531
ENIs), eni-src on host-a (underlay 192.168.100.1, MAC 02:00:00:00:00:00,
10.0.0.4) and N remote ENIs spread round-robin over min(N, 200) other hosts
(192.168.100.2-201).  Its security group admits 10.0.0.0/8 and sends
anywhere (by CIDR, no group reference, so that only mapping and
rx_verify depend on the remote ENIs).  Writes OUT and OUT.dsts ("IP MAC" of each remote ENI, one a line).
"""
import json, sys

n, out = int(sys.argv[1]), sys.argv[2]
nh = max(1, min(n, 200))
hosts = [{"id": "host-a", "underlay_ip": "192.168.100.1"}]
hosts += [{"id": "host-r%03d" % h, "underlay_ip": "192.168.100.%d" % (h + 2)}
          for h in range(nh)]
per_block = 65536 - 5
nb = (n + 1 + per_block - 1) // per_block
blocks = ["10.%d.0.0/16" % b for b in range(nb)]
subnets = [{"id": "subnet-%d" % b, "vpc": "vpc-b", "cidr": blocks[b]} for b in range(nb)]


def addr(i):
    b, k = divmod(i, per_block)
    k += 4
    return b, "10.%d.%d.%d" % (b, k >> 8, k & 255)


def eni(i, host):
    b, ip = addr(i)
    return {"id": "eni-%06d" % i, "subnet": "subnet-%d" % b,
            "mac": "02:00:00:%02x:%02x:%02x" % (i >> 16 & 255, i >> 8 & 255, i & 255),
            "private_ip": ip, "host": host, "security_groups": ["sg-b"]}


enis = [eni(0, "host-a")]
enis[0]["id"] = "eni-src"
enis += [eni(i, hosts[1 + (i - 1) % nh]["id"]) for i in range(1, n + 1)]
doc = {"description": "benchmark: host-a's VPC holds %d remote ENIs" % n,
       "hosts": hosts,
       "vpcs": [{"id": "vpc-b", "cidr_blocks": blocks, "vni": 100}],
       "subnets": subnets,
       "security_groups": [{"id": "sg-b", "vpc": "vpc-b",
                            "ingress": [{"protocol": "-1", "cidr": "10.0.0.0/8"}],
                            "egress": [{"protocol": "-1", "cidr": "0.0.0.0/0"}]}],
       "enis": enis}
with open(out, "w") as f:
    json.dump(doc, f, separators=(",", ":"))
with open(out + ".dsts", "w") as f:
    for e in enis[1:]:
        f.write("%s %s\n" % (e["private_ip"], e["mac"]))

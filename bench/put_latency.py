#!/usr/bin/env python3
"""bench/put_latency.py: latency of 'PUT /v1/intents' that adds one ENI.

usage: put_latency.py REGION HOST CHANGES URL [URL...]

Picks a VPC that has ENIs on HOST and on at least one other host, then, for
each of CHANGES rounds, inserts one more ENI of that VPC on HOST into the
document and PUTs the whole document to every vpcd URL at once (threads).
A round's latency is the time until the last vpcd answered that the change
is installed (HTTP 200, in_sync).  Prints one line of JSON with the median,
p99 and max in milliseconds.
"""
import json, sys, threading, time, urllib.request

region, host, changes, urls = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
text = open(region).read()
doc = json.loads(text)
subnet_vpc = {s["id"]: s["vpc"] for s in doc["subnets"]}
subnet_cidr = {s["id"]: s["cidr"] for s in doc["subnets"]}
hosts_of = {}
for e in doc["enis"]:
    hosts_of.setdefault(subnet_vpc[e["subnet"]], set()).add(e["host"])
local = [e for e in doc["enis"] if e["host"] == host]
pick = next(e for e in local if len(hosts_of[subnet_vpc[e["subnet"]]]) > 1)
subnet = pick["subnet"]
used = {e["private_ip"] for e in doc["enis"] if e["subnet"] == subnet}
net = subnet_cidr[subnet].split("/")[0].rsplit(".", 1)[0]
free = [f"{net}.{i}" for i in range(4, 255) if f"{net}.{i}" not in used]
anchor = text.index('"enis": [') + len('"enis": [')

def put(url, body, out, i):
    t0 = time.perf_counter()
    req = urllib.request.Request(url + "/v1/intents", data=body, method="PUT")
    with urllib.request.urlopen(req) as r:
        reply = json.loads(r.read())
    out[i] = (time.perf_counter() - t0, r.status, reply.get("in_sync"))

lat, enis = [], []
for n in range(changes):
    enis.append('{"id": "eni-bench-%d", "subnet": "%s", "mac": "0a:be:%02x:%02x:00:01", '
                '"private_ip": "%s", "host": "%s", "security_groups": %s}, '
                % (n, subnet, n // 256, n % 256, free[n % len(free)], host,
                   json.dumps(pick.get("security_groups", []))))
    body = (text[:anchor] + enis[-1] + text[anchor:]).encode()
    out = [None] * len(urls)
    threads = [threading.Thread(target=put, args=(u, body, out, i)) for i, u in enumerate(urls)]
    t0 = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    lat.append((time.perf_counter() - t0) * 1000)
    bad = [o for o in out if o is None or o[1] != 200 or not o[2]]
    if bad:
        sys.exit("round %d not installed: %s" % (n, out))
    # Each round replaces the previous document: one ENI more than the original.
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(json.dumps({"changes": changes, "vpc": subnet_vpc[subnet], "median_ms": round(q(0.5), 1),
                  "p99_ms": round(q(0.99), 1), "max_ms": round(lat[-1], 1),
                  "doc_bytes": len(text)}))

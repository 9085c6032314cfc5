#!/usr/bin/env python3
"""bench/imds-load.py: a metadata load client (bench/bench-imds.sh).

Runs CONNS threads, each with one keep-alive HTTP/1.1 connection to the
metadata service, for SECONDS: GET PATH (with an IMDSv2 token, taken once
with PUT /latest/api/token, unless --no-token), as fast as the answers
come, or at RATE requests per second per thread (--rate).  Prints one JSON
object: requests, seconds, rps, the latency p50/p99/max in milliseconds,
the count of each HTTP status, and errors (connections lost, reopened).
Python standard library only."""

import argparse
import http.client
import json
import threading
import time


def token(host, port):
    c = http.client.HTTPConnection(host, port, timeout=5)
    c.request("PUT", "/latest/api/token",
              headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    if r.status != 200:
        raise SystemExit("token: HTTP %d" % r.status)
    return body


def worker(args, headers, end, out):
    lat, codes, errors = [], {}, 0
    conn = None
    interval = 1.0 / args.rate if args.rate else 0
    next_t = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if interval:
            if now < next_t:
                time.sleep(next_t - now)
            next_t += interval
        if conn is None:
            conn = http.client.HTTPConnection(args.host, args.port,
                                              timeout=5)
        t0 = time.monotonic()
        try:
            conn.request("GET", args.path, headers=headers)
            r = conn.getresponse()
            r.read()
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = None
            continue
        lat.append(time.monotonic() - t0)
        codes[r.status] = codes.get(r.status, 0) + 1
    out.append((lat, codes, errors))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="169.254.169.254")
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--path", default="/latest/meta-data/instance-id")
    p.add_argument("--conns", type=int, default=1)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--no-token", action="store_true")
    args = p.parse_args()

    headers = {}
    if not args.no_token:
        headers["X-aws-ec2-metadata-token"] = token(args.host, args.port)
    out = []
    start = time.monotonic()
    end = start + args.seconds
    threads = [threading.Thread(target=worker,
                                args=(args, headers, end, out))
               for _ in range(args.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - start
    lat = sorted(x for l, _, _ in out for x in l)
    codes = {}
    for _, c, _ in out:
        for k, v in c.items():
            codes[str(k)] = codes.get(str(k), 0) + v

    def q(f):
        return round(lat[min(len(lat) - 1, int(f * len(lat)))] * 1000, 3) \
            if lat else None

    print(json.dumps({
        "requests": len(lat), "seconds": round(secs, 2),
        "rps": round(len(lat) / secs, 1), "p50_ms": q(0.5),
        "p99_ms": q(0.99), "max_ms": q(1.0) if lat else None,
        "codes": codes, "errors": sum(e for _, _, e in out),
    }, sort_keys=True))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# bench/dns_client.py SERVER NAME N [WINDOW] [FLOOD]: DNS queries (A for
# NAME) over UDP to SERVER:53, N in all with up to WINDOW outstanding (1:
# one at a time, for latency).  Prints one JSON line: sent, answered
# (NOERROR with an answer, or any reply for a forwarded name), lost (no
# reply within 1 s), seconds, rate (answers per second), p50_ms, p99_ms.
# With FLOOD=1 it only sends, as fast as it can, for N seconds, and prints
# what it sent and what came back.
import json, select, socket, struct, sys, time

def query(qid, name):
    q = struct.pack('!HHHHHH', qid, 0x0100, 1, 0, 0, 0)
    for label in name.split('.'):
        q += bytes([len(label)]) + label.encode()
    return q + b'\0' + struct.pack('!HH', 1, 1)

def main():
    server, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    window = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    flood = len(sys.argv) > 5 and sys.argv[5] == '1'
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.connect((server, 53))
    s.setblocking(False)
    if flood:
        end, sent, got, i = time.time() + n, 0, 0, 0
        while time.time() < end:
            for _ in range(64):
                try:
                    s.send(query(i & 0xffff, name))
                    sent += 1
                except BlockingIOError:
                    pass
                i += 1
            while select.select([s], [], [], 0)[0]:
                try:
                    s.recv(4096)
                    got += 1
                except OSError:
                    break
        print(json.dumps({"flood_sent": sent, "flood_answered": got,
                          "seconds": n}))
        return
    pending, lat, lost, nxt = {}, [], 0, 0
    t0 = time.time()
    while nxt < n or pending:
        while nxt < n and len(pending) < window:
            qid = nxt & 0xffff
            pending[qid] = time.time()
            s.send(query(qid, name))
            nxt += 1
        now = time.time()
        for qid, t in list(pending.items()):
            if now - t > 1.0:
                del pending[qid]
                lost += 1
        if select.select([s], [], [], 0.05)[0]:
            try:
                r = s.recv(4096)
            except OSError:
                continue
            qid = struct.unpack('!H', r[:2])[0] if len(r) >= 12 else None
            if qid in pending:
                lat.append((time.time() - pending.pop(qid)) * 1000)
    secs = time.time() - t0
    lat.sort()
    q = lambda p: (round(lat[min(len(lat) - 1, int(p * len(lat)))], 3)
                   if lat else None)
    print(json.dumps({"sent": n, "answered": len(lat), "lost": lost,
                      "window": window, "seconds": round(secs, 3),
                      "rate": round(len(lat) / secs, 1) if secs else 0,
                      "p50_ms": q(0.50), "p99_ms": q(0.99)}))

main()

#!/usr/bin/env python3
# bench/dns_client.py SERVER NAME N [WINDOW] [FLOOD]: DNS queries (A for
# NAME) over UDP to SERVER:53, N in all with up to WINDOW outstanding (1:
# one at a time, for latency).  Prints one JSON line: sent, answered
# (NOERROR with an answer, or any reply for a forwarded name), lost (no
# reply within 1 s), seconds, rate (answers per second), p50_ms, p99_ms.
# With FLOOD=1 it only sends, as fast as it can, for N seconds, and prints
# what it sent and what came back.
import json, socket, struct, sys, time

import loadgen

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
    def send_flood(i):
        try:
            s.send(query(i & 0xffff, name))
            return True
        except BlockingIOError:
            return False
    def recv_flood():
        try:
            s.recv(4096)
            return True
        except OSError:
            return None
    if flood:
        print(json.dumps(loadgen.flood(s, n, send_flood, recv_flood)))
        return
    def send(i):
        qid = i & 0xffff
        s.send(query(qid, name))
        return qid
    def recv():
        try:
            r = s.recv(4096)
        except OSError:
            return None
        return struct.unpack('!H', r[:2])[0] if len(r) >= 12 else None
    print(json.dumps(loadgen.windowed(s, n, window, send, recv)))

main()

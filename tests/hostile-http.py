#!/usr/bin/env python3
"""tests/hostile-http.py MODE PORT PID [ARGS]: hostile HTTP clients against
vpcd on 127.0.0.1:PORT (PID is vpcd's, to read its memory and descriptors).
Every mode is bounded in connections, bytes and time, and prints "key value"
lines for the calling test (tests/sandbox/vpcd-http-limits.sh) to check:

  header MAX_MB        one request whose header line grows up to MAX_MB
  body N MB            N uploads declaring MB MiB each (plain and chunked),
                       sending all of it unless vpcd cuts them off, then
                       stalling with the connections open
  stalled N            N connections that send half a request line, stall
  idle SECONDS         one connection that sends nothing: when does vpcd
                       close it (within SECONDS)?
  flood N SECONDS      N connections held open SECONDS while vpcd's CPU
                       time is measured (for the EMFILE test)
"""
import os
import socket
import sys
import time

MODE, PORT, PID = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ARGS = sys.argv[4:]
MiB = 1024 * 1024


def out(key, value):
    print(key, value, flush=True)


def rss_kb():
    with open("/proc/%d/status" % PID) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def sockets():
    n = 0
    for fd in os.listdir("/proc/%d/fd" % PID):
        try:
            if os.readlink("/proc/%d/fd/%s" % (PID, fd)).startswith("socket"):
                n += 1
        except OSError:
            pass
    return n


def cpu_ticks():
    with open("/proc/%d/stat" % PID) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])     # utime + stime


def connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    return s


def status_line(s):
    """The first line vpcd answered on 's', or '' if none within 2 s."""
    s.settimeout(2)
    try:
        data = s.recv(200)
    except OSError:
        return ""
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def send_until_cut(s, total, chunk_of):
    """Sends up to 'total' bytes (chunk_of(n) makes each piece) until vpcd
    stops reading; returns what was sent."""
    sent = 0
    s.settimeout(3)             # vpcd not reading for 3 s: it cut us off.
    try:
        while sent < total:
            piece = chunk_of(min(MiB, total - sent))
            s.sendall(piece)
            sent += min(MiB, total - sent)
    except OSError:
        pass
    return sent


if MODE == "header":
    limit = int(ARGS[0]) * MiB
    s = connect()
    s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: vpcd\r\nX-Big: ")
    sent = send_until_cut(s, limit, lambda n: b"a" * n)
    out("sent_mb", sent // MiB)
    out("answer", repr(status_line(s)))
    out("rss_kb", rss_kb())
    s.close()

elif MODE == "body":
    n, mb = int(ARGS[0]), int(ARGS[1])
    conns, max_sent = [], 0
    for i in range(n):
        s = connect()
        if i % 2:
            s.sendall(b"PUT /v1/intents HTTP/1.1\r\nHost: vpcd\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            sent = send_until_cut(
                s, mb * MiB,
                lambda k: b"%x\r\n" % k + b" " * k + b"\r\n")
        else:
            s.sendall(b"PUT /v1/intents HTTP/1.1\r\nHost: vpcd\r\n"
                      b"Content-Length: %d\r\n\r\n" % (mb * MiB))
            sent = send_until_cut(s, mb * MiB - 1, lambda k: b" " * k)
        max_sent = max(max_sent, sent)
        conns.append(s)
    out("max_sent_mb", max_sent // MiB)
    codes = []
    for s in conns:
        line = status_line(s)
        codes.append(line.split(" ")[1] if line.startswith("HTTP/") else "-")
    out("codes", ",".join(codes))
    out("rss_kb", rss_kb())      # With every upload still open.
    for s in conns:
        s.close()

elif MODE == "stalled":
    n = int(ARGS[0])
    base = sockets()
    conns = []
    for _ in range(n):
        s = connect()
        s.sendall(b"GET /v1/sta")
        conns.append(s)
    time.sleep(1)
    out("accepted", sockets() - base)
    out("rss_kb", rss_kb())
    # Is vpcd still answering someone else?
    try:
        s = connect()
        s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: vpcd\r\n\r\n")
        out("status", repr(status_line(s)))
        s.close()
    except OSError as e:
        out("status", repr(str(e)))
    for s in conns:
        s.close()

elif MODE == "idle":
    secs = float(ARGS[0])
    s = connect()
    t0 = time.time()
    s.settimeout(secs)
    try:
        data = s.recv(100)
        out("closed_after_s", "%.0f" % (time.time() - t0))
    except socket.timeout:
        out("closed_after_s", "never")
    s.close()

elif MODE == "flood":
    n, secs = int(ARGS[0]), float(ARGS[1])
    conns = []
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", PORT), timeout=2)
            conns.append(s)
        except OSError:
            break
    time.sleep(0.5)
    t0, c0 = time.time(), cpu_ticks()
    time.sleep(secs)
    ticks = cpu_ticks() - c0
    out("cpu_percent", "%.0f" % (100.0 * ticks / os.sysconf("SC_CLK_TCK")
                                 / (time.time() - t0)))
    out("rss_kb", rss_kb())
    for s in conns:
        s.close()

else:
    sys.exit("unknown mode %s" % MODE)

#!/usr/bin/env python3
"""bench/edge-load.py: load generators for bench/bench-edge.sh (stdlib only).

  blast IFACE SECS SRCMAC DSTMAC SRC DST SPORT DPORT NFLOWS [VARY] [geneve
        OUTER_SRCMAC OUTER_DSTMAC OUTER_SRC OUTER_DST VNI]
      Raw Ethernet frames (AF_PACKET, sendmmsg() through ctypes, 64 frames a
      call) on IFACE for SECS seconds, as fast as one core goes: IPv4/UDP
      SRC:SPORT -> DST:DPORT, NFLOWS flows that differ in the source port
      (VARY=sport, default) or the destination port (VARY=dport), 18 bytes
      of payload (a 60-byte frame).  With "geneve ...", each frame is the
      inner frame of a Geneve packet (UDP 6081, no options) from OUTER_SRC
      to OUTER_DST with VNI.  Prints "sent=N secs=T pps=R".
  tcp-server ADDR PORT STATSFILE
      Accepts, sends one byte, closes; on SIGTERM writes {peer IP: count}
      as JSON to STATSFILE.
  tcp-client ADDR PORT SECS THREADS
      THREADS threads, each: connect, read until EOF, close, again, for
      SECS seconds.  Prints "connections=N errors=E secs=T cps=R".
"""
import ctypes
import json
import signal
import socket
import struct
import sys
import threading
import time


def mac(s):
    return bytes.fromhex(s.replace(":", ""))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_udp(src, dst, sport, dport, payload, ttl=64):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000,
                      ttl, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + udp


def eth(dst, src, payload, etype=0x0800):
    return mac(dst) + mac(src) + struct.pack("!H", etype) + payload


class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]


def blast(a):
    iface, secs = a[0], float(a[1])
    smac, dmac, src, dst = a[2:6]
    sport, dport, nflows = int(a[6]), int(a[7]), int(a[8])
    rest = a[9:]
    vary = "sport"
    if rest and rest[0] in ("sport", "dport"):
        vary, rest = rest[0], rest[1:]
    frames = []
    for i in range(nflows):
        sp, dp = (sport + i, dport) if vary == "sport" else (sport, dport + i)
        f = eth(dmac, smac, ipv4_udp(src, dst, sp, dp, b"edge-bench-payload"))
        if rest and rest[0] == "geneve":
            osmac, odmac, osrc, odst, vni = rest[1:6]
            gnv = struct.pack("!BBHI", 0, 0, 0x6558, int(vni) << 8) + f
            f = eth(odmac, osmac, ipv4_udp(osrc, odst, 49152 + i, 6081, gnv))
        frames.append(f)
    batch = 64
    bufs = [ctypes.create_string_buffer(frames[i % nflows], len(frames[i % nflows]))
            for i in range(batch)]
    iovs = (iovec * batch)()
    msgs = (mmsghdr * batch)()
    for i, b in enumerate(bufs):
        iovs[i].base = ctypes.addressof(b)
        iovs[i].len = len(frames[i % nflows])
        msgs[i].hdr.iov = ctypes.pointer(iovs[i])
        msgs[i].hdr.iovlen = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.sendmmsg.argtypes = [ctypes.c_int, ctypes.POINTER(mmsghdr),
                              ctypes.c_uint, ctypes.c_int]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    fd = s.fileno()
    sent = errors = 0
    t0 = time.monotonic()
    end = t0 + secs
    while True:
        for _ in range(16):
            n = libc.sendmmsg(fd, msgs, batch, 0)
            if n > 0:
                sent += n
            else:
                errors += 1
        now = time.monotonic()
        if now >= end:
            break
    el = now - t0
    print("sent=%d secs=%.3f pps=%.0f errors=%d" % (sent, el, sent / el, errors))


def tcp_server(a):
    addr, port, statsfile = a[0], int(a[1]), a[2]
    counts = {}

    def stop(*_):
        with open(statsfile, "w") as f:
            json.dump(counts, f)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(4096)
    while True:
        c, peer = ls.accept()
        counts[peer[0]] = counts.get(peer[0], 0) + 1
        try:
            c.send(b"x")
        except OSError:
            pass
        c.close()


def tcp_client(a):
    addr, port, secs, nthr = a[0], int(a[1]), float(a[2]), int(a[3])
    done = [0] * nthr
    errs = [0] * nthr
    end = time.monotonic() + secs

    def worker(k):
        while time.monotonic() < end:
            s = socket.socket()
            s.settimeout(3)
            try:
                s.connect((addr, port))
                while s.recv(64):
                    pass
                done[k] += 1
            except OSError:
                errs[k] += 1
            finally:
                s.close()
    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(nthr)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    el = time.monotonic() - t0
    print("connections=%d errors=%d secs=%.3f cps=%.0f"
          % (sum(done), sum(errs), el, sum(done) / el))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"blast": blast, "tcp-server": tcp_server, "tcp-client": tcp_client}[cmd](args)

#!/usr/bin/env python3
# bench/dhcp_client.py IFACE MAC N [WINDOW] [FLOOD]: DHCP exchanges
# (DISCOVER -> OFFER) on IFACE (AF_PACKET, root), from MAC, N in all with
# up to WINDOW outstanding (1: one at a time, for latency).  Prints one
# JSON line: sent, answered, lost (no OFFER within 1 s), seconds, rate
# (answered exchanges per second), p50_ms, p99_ms (of answered ones).
# With FLOOD=1 it only sends, as fast as it can, for N seconds, and prints
# what it sent and what came back.
import json, socket, struct, sys, time

import loadgen

def mac(s): return bytes(int(x, 16) for x in s.split(':'))

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def discover(src, xid):
    bootp = struct.pack('!BBBBIHH', 1, 1, 6, 0, xid, 0, 0) + b'\0' * 16
    bootp += mac(src) + b'\0' * 202
    bootp += struct.pack('!I', 0x63825363) + bytes([53, 1, 1, 255])
    udp = struct.pack('!HHHH', 68, 67, 8 + len(bootp), 0) + bootp
    ph = b'\0' * 4 + b'\xff' * 4 + struct.pack('!BBH', 0, 17, len(udp))
    udp = udp[:6] + struct.pack('!H', csum(ph + udp) or 0xffff) + udp[8:]
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17,
                    0, b'\0' * 4, b'\xff' * 4)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return b'\xff' * 6 + mac(src) + b'\x08\x00' + h + udp

def offer_xid(f):
    # Ethernet, IPv4 (IHL from the header), UDP 67 -> 68, BOOTP reply.
    if len(f) < 14 + 20 + 8 + 240 or f[12:14] != b'\x08\x00':
        return None
    ihl = (f[14] & 15) * 4
    u = 14 + ihl
    if f[14 + 9] != 17 or f[u:u + 4] != b'\x00\x43\x00\x44':
        return None
    b = u + 8
    return struct.unpack('!I', f[b + 4:b + 8])[0] if f[b] == 2 else None

def main():
    iface, src, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    window = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    flood = len(sys.argv) > 5 and sys.argv[5] == '1'
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    base = int(time.time() * 1000) & 0xffff
    if flood:
        def send(i):
            s.send(discover(src, (base << 16) | (i & 0xffff)))
            return True
        print(json.dumps(loadgen.flood(
            s, n, send, lambda: offer_xid(s.recv(2048)) is not None)))
        return
    def send(i):
        xid = (base << 16) | i
        s.send(discover(src, xid))
        return xid
    print(json.dumps(loadgen.windowed(s, n, window, send,
                                      lambda: offer_xid(s.recv(2048)))))

main()

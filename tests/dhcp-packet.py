#!/usr/bin/env python3
# tests/dhcp-packet.py dns MAC SRC_IP DST_IP NAME [ID]: an A query for
# NAME from SRC_IP:40000 (MAC) to DST_IP:53, to the router MAC of VNI 1010
# (the web tier's), as hex.
# tests/dhcp-packet.py TYPE MAC [CHADDR] [XID] [REQUESTED_IP] [SRC_IP]:
# prints a DHCP client message (Ethernet, IPv4, UDP 68 -> 67) as hex, for
# netdev-dummy/receive or a raw socket (tests/netns/dhcp.sh).  TYPE is a
# DHCP message type number (1 DISCOVER, 3 REQUEST, 8 INFORM, ...).  With
# --send IFACE COUNT it sends the frame COUNT times on IFACE instead
# (AF_PACKET, root), as fast as it can.
import socket, struct, sys

def mac(s): return bytes(int(x, 16) for x in s.split(':'))
def ip4(s): return bytes(int(x) for x in s.split('.'))

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def frame(mtype, src_mac, chaddr, xid, requested, src_ip):
    bootp = struct.pack('!BBBBIHH4s4s4s4s', 1, 1, 6, 0, xid, 0, 0,
                        ip4('0.0.0.0'), ip4('0.0.0.0'), ip4('0.0.0.0'),
                        ip4('0.0.0.0'))
    bootp += mac(chaddr) + b'\0' * 10 + b'\0' * 192
    opts = struct.pack('!I', 0x63825363) + bytes([53, 1, mtype])
    if requested:
        opts += bytes([50, 4]) + ip4(requested)
    opts += bytes([55, 5, 1, 3, 6, 15, 26, 255])
    payload = bootp + opts
    udp = struct.pack('!HHHH', 68, 67, 8 + len(payload), 0) + payload
    dst = '255.255.255.255'
    ph = ip4(src_ip) + ip4(dst) + struct.pack('!BBH', 0, 17, len(udp))
    udp = udp[:6] + struct.pack('!H', csum(ph + udp) or 0xffff) + udp[8:]
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                    ip4(src_ip), ip4(dst))
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return b'\xff' * 6 + mac(src_mac) + b'\x08\x00' + h + udp

def dns_frame(src_mac, src_ip, dst_ip, name, qid):
    q = struct.pack('!HHHHHH', qid, 0x0100, 1, 0, 0, 0)
    for label in name.split('.'):
        q += bytes([len(label)]) + label.encode()
    q += b'\0' + struct.pack('!HH', 1, 1)
    udp = struct.pack('!HHHH', 40000, 53, 8 + len(q), 0) + q
    ph = ip4(src_ip) + ip4(dst_ip) + struct.pack('!BBH', 0, 17, len(udp))
    udp = udp[:6] + struct.pack('!H', csum(ph + udp) or 0xffff) + udp[8:]
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                    ip4(src_ip), ip4(dst_ip))
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return mac('02:76:70:00:03:f2') + mac(src_mac) + b'\x08\x00' + h + udp

args = sys.argv[1:]
if args and args[0] == 'dns':
    print(dns_frame(args[1], args[2], args[3], args[4],
                    int(args[5], 0) if len(args) > 5 else 0x4242).hex())
    sys.exit(0)
send = None
if args and args[0] == '--send':
    send = (args[1], int(args[2]))
    args = args[3:]
mtype, src = int(args[0]), args[1]
chaddr = args[2] if len(args) > 2 and args[2] else src
xid = int(args[3], 0) if len(args) > 3 else 0x12345678
requested = args[4] if len(args) > 4 else ''
src_ip = args[5] if len(args) > 5 else '0.0.0.0'
f = frame(mtype, src, chaddr, xid, requested, src_ip)
if send:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((send[0], 0))
    for i in range(send[1]):
        s.send(f)
else:
    print(f.hex())

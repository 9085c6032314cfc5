# tests/sandbox/helpers.sh: extra helpers for the sandbox tests.  Source it
# after tests/lib.sh.

# dp_port NAME PORT: the datapath port number of PORT (ofproto/trace's
# "Datapath actions" name datapath ports, not OpenFlow ports).
dp_port() {
    appctl_on "$1" dpif/show | awk -v p="$2" '$1 == p { split($2, a, "[/:]"); print a[2] }'
}

# rx_trace NAME TUN_ID TUN_SRC DL_DST NW_SRC NW_DST: ofproto/trace of a
# Geneve ICMP echo request arriving on the tunnel port (ofport 1000),
# conntrack answering "new".
rx_trace() {
    appctl_on "$1" ofproto/trace br-int "in_port=1000,tun_id=$2,tun_src=$3,tun_dst=192.168.100.1,dl_dst=$4,icmp,nw_src=$5,nw_dst=$6,icmp_type=8" --ct-next trk,new 2>&1
}

# dp_actions: the last "Datapath actions" line of a trace, on stdin.  In the
# action mapping mode, vpc_verify runs first and decides per packet (see
# rx_packet for that); it is left out here so both modes read alike.
dp_actions() {
    grep '^Datapath actions:' | tail -1 \
        | sed -e 's/^Datapath actions: vpc_verify$/Datapath actions: drop/' \
              -e 's/^Datapath actions: vpc_verify,/Datapath actions: /'
}

# wait_pcap NAME FILE PATTERN: polls the capture (up to 3 s) until tcpdump's
# text matches PATTERN; prints the text either way.
wait_pcap() {
    local i text
    for i in $(seq 30); do
        text=$(pcap_text "$1" "$2")
        grep -Eq -- "$3" <<<"$text" && break
        sleep 0.1
    done
    printf '%s\n' "$text"
}

# geneve_hex VNI OUTER_SRC OUTER_DST INNER_DMAC INNER_SRC INNER_DST: a real
# Geneve frame (outer Ethernet to br-phy's MAC 02:aa:00:00:00:01) carrying an
# ICMP echo request, as hex for netdev-dummy/receive.
geneve_hex() {
    python3 - "$@" <<'PY'
import struct, sys
vni, osrc, odst, dmac, isrc, idst = sys.argv[1:]
ip4 = lambda s: bytes(int(x) for x in s.split('.'))
mac = lambda s: bytes(int(x, 16) for x in s.split(':'))
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def ipv4(src, dst, proto, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 0, 0, 64,
                    proto, 0, ip4(src), ip4(dst))
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
icmp = struct.pack('!BBHHH', 8, 0, 0, 1, 1) + b'ovs-vpc!'
icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
inner = mac(dmac) + mac('02:76:70:00:00:01') + b'\x08\x00' + ipv4(isrc, idst, 1, icmp)
gnv = struct.pack('!BBHI', 0, 0, 0x6558, int(vni) << 8) + inner
udp = struct.pack('!HHHH', 50000, 6081, 8 + len(gnv), 0) + gnv
outer = mac('02:aa:00:00:00:01') + mac('02:ee:00:00:00:01') + b'\x08\x00' + ipv4(osrc, odst, 17, udp)
print(outer.hex())
PY
}

# rx_packet NAME VM VNI TUN_SRC DL_DST NW_SRC NW_DST: injects a real Geneve
# frame into NAME's underlay port and prints how many ICMP echo requests
# from NW_SRC the VM port VM then carries (its tx capture).
rx_packet() {
    local name=$1 vm=$2 before after
    before=$(pcap_text "$name" "$vm.pcap" | grep -c "$6 > $7: ICMP echo request")
    appctl_on "$name" netdev-dummy/receive p0 \
        "$(geneve_hex "$3" "$4" 192.168.100.1 "$5" "$6" "$7")" >/dev/null
    sleep 0.3
    after=$(pcap_text "$name" "$vm.pcap" | grep -c "$6 > $7: ICMP echo request")
    echo $((after - before))
}

# frame_hex SRC_MAC DST_MAC SRC_IP DST_IP ICMP_TYPE ICMP_ID [TPID:VID...]:
# an Ethernet frame with ICMP (type 8 request, 0 reply), optionally behind
# VLAN tags given outermost first (e.g. 88a8:100 8100:200), as hex.
frame_hex() {
    python3 - "$@" <<'PY'
import struct, sys
smac, dmac, src, dst, itype, iid = sys.argv[1:7]
tags = sys.argv[7:]
ip4 = lambda s: bytes(int(x) for x in s.split('.'))
mac = lambda s: bytes(int(x, 16) for x in s.split(':'))
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
icmp = struct.pack('!BBHHH', int(itype), 0, 0, int(iid), 1) + b'ovs-vpc!'
icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0, ip4(src), ip4(dst))
h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
frame = mac(dmac) + mac(smac)
for t in tags:
    tpid, vid = t.split(':')
    frame += struct.pack('!HH', int(tpid, 16), int(vid))
frame += b'\x08\x00' + h + icmp
print(frame.hex())
PY
}

# sandbox_edge NAME UNDERLAY_IP: a sandbox host (sandbox_host) set up as an
# edge: vlan-limit=2 before any bridge exists (OVS probes the datapath's
# VLAN depth once, when the first bridge is created), and dummy ports
# "uplink" (ofport 2) and "dx" (ofport 3) tagged for vpcctl, their tx
# captured in uplink.pcap and dx.pcap.
sandbox_edge() {
    local name=$1 d
    ovs_start "$name"
    vsctl_on "$name" set Open_vSwitch . other_config:vlan-limit=2
    sandbox_host "$name" "$2"
    d=${OVS_DIR[$name]}
    vsctl_on "$name" \
        -- add-port br-int uplink -- set interface uplink type=dummy \
           ofport_request=2 options:tx_pcap="$d/uplink.pcap" \
           external_ids:vpc-edge-port=uplink \
        -- add-port br-int dx -- set interface dx type=dummy \
           ofport_request=3 options:tx_pcap="$d/dx.pcap" \
           external_ids:vpc-edge-port=dx
}

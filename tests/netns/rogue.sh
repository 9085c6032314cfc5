#!/usr/bin/env bash
# Netns lab, real packets: receive-side anti-spoofing (rx_verify / vpc_verify)
# against hand-made Geneve packets.  examples/web-tier.json on host-a and
# host-b, plus a ROGUE: a plain netns on the same underlay bridge with an
# underlay address that is no host of the region (192.168.100.66).  Senders
# write Geneve (UDP 6081) to host-a's underlay address from a kernel socket;
# the inner frame is an ICMP echo request to web-a (10.10.1.10).
#   - rogue, inner source web-b (10.10.1.11, held by host-b): dropped
#   - rogue, inner source unknown in the VPC (10.10.1.99): dropped
#   - host-b (a real host), inner source client-a (10.10.1.20, held by
#     host-a, not host-b): dropped
#   - host-b, inner source web-b: delivered (positive control; same bytes
#     as the first rogue packet, only the outer source differs)
# Counters that must move: web-a's Icmp InEchos; host-a's vpcmap/stats
# spoofed= (action mode) or rx_verify's miss flow (table=70, priority=0;
# flows mode).
. "$(dirname "$0")/lab.sh"
EX=$TOP/examples/web-tier.json
lab_require
command -v python3 >/dev/null || skip "no python3"
PY=$(command -v python3)
VNI=$("$PY" -c 'import json,sys
print(next(v["vni"] for v in json.load(open(sys.argv[1]))["vpcs"] if v["id"] == "vpc-web"))' "$EX")
MAC_WEB_A=02:00:00:10:01:0a     # eni-web-a's MAC in the intent
ROGUE_IP=192.168.100.66

lab_host host-a 192.168.100.1
lab_host host-b 192.168.100.2
#      host   vm        eni           mac (from the intent) ip              router
lab_vm host-a web-a    eni-web-a    $MAC_WEB_A        10.10.1.10/24 10.10.1.1
lab_vm host-a client-a eni-client-a 02:00:00:10:01:14 10.10.1.20/24 10.10.1.1
lab_vm host-b web-b    eni-web-b    02:00:00:10:01:0b 10.10.1.11/24 10.10.1.1

# The rogue: a netns with a veth into the underlay bridge, no OVS.
RNS=$(lab_ns rogue)
lab_netns "$RNS"
ip netns exec "$RNS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
LAB_NPORT=$((LAB_NPORT + 1))
ip link add ul0 netns "$RNS" type veth peer name "h$LAB_NPORT" netns "$LAB_UL"
LAB_VETHS+=("$RNS ul0")
ip -n "$LAB_UL" link set "h$LAB_NPORT" master br0 up
# No tx checksum offload: else the UDP checksum stays partial on the veth and
# OVS (AF_PACKET on host-a's ul0) rejects the packet before any flow sees it
# (coverage datapath_drop_tunnel_pop_error), which would prove nothing.
ip netns exec "$RNS" ethtool -K ul0 tx off >/dev/null 2>&1
ip -n "$RNS" addr add "$ROGUE_IP/24" dev ul0
ip -n "$RNS" link set ul0 up

lab_warm
lab_apply "$EX"

# geneve_send NETNS INNER_SRC COUNT: COUNT Geneve packets (VNI $VNI, ICMP echo
# request INNER_SRC -> web-a, to web-a's MAC) from NETNS's kernel to host-a's
# underlay address, UDP 6081.  Prints "sent N from ADDR".
geneve_send() {
    ip netns exec "$1" "$PY" - "$VNI" "$MAC_WEB_A" "$2" 10.10.1.10 \
        "${LAB_HOST_IP[host-a]}" "$3" <<'EOF'
import socket, struct, sys, time
vni, dmac, src, dst, under, count = sys.argv[1:7]
vni, count = int(vni), int(count)
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sk.connect((under, 6081))     # fixes the source address, for the report
for seq in range(1, count + 1):
    data = b"ovs-vpc rogue probe %d" % seq
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x7a7a, seq) + data
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), seq, 0x4000,
                     64, 1, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = (bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex("02dead0000ee")
           + struct.pack("!H", 0x0800))
    geneve = struct.pack("!BBHI", 0, 0, 0x6558, vni << 8)
    sk.send(geneve + eth + ip + icmp)
    time.sleep(0.05)
print("sent %d from %s" % (count, sk.getsockname()[0]))
EOF
}

# rx_counter: host-a's count of tunnel packets refused by anti-spoofing.
rx_counter() {
    if [ "$VPC_MAPPING" = action ]; then
        appctl_on host-a vpcmap/stats | grep -Eo 'spoofed=[0-9]+' | cut -d= -f2
    else
        appctl_on host-a revalidator/wait >/dev/null 2>&1   # push dp stats
        ofctl_on host-a dump-flows br-int table=$(stage_table rx_verify) \
            | awk '/priority=0[, ]/ || (/priority=0$/) {
                     match($0, /n_packets=[0-9]+/)
                     print substr($0, RSTART + 10, RLENGTH - 10) }'
    fi
}
if [ "$VPC_MAPPING" = action ]; then WHAT="vpcmap/stats spoofed"
else WHAT="rx_verify miss flow (table=70, priority=0) n_packets"; fi

# settle: echo requests (if any) reach web-a's kernel well within this.
settle() { sleep 0.3; }

N=5
echo "Underlay: the rogue reaches host-a"
lab_in rogue ping -n -c 1 -W 2 "${LAB_HOST_IP[host-a]}" 2>&1 \
    | expect "the rogue ($ROGUE_IP) pings host-a's br-phy (ARP answered)" ' 0% packet loss'
ip -n "$RNS" neigh show "${LAB_HOST_IP[host-a]}" \
    | expect "... and has its MAC in the neighbour table" 'lladdr'

check() {   # check WHAT IN0 IN1 SP0 SP1 delivered|dropped
    local what=$1 in0=$2 in1=$3 sp0=$4 sp1=$5 want=$6
    if [ -z "$in0" ] || [ -z "$in1" ] || [ -z "$sp0" ] || [ -z "$sp1" ]; then
        fail "$what: a counter could not be read (InEchos '$in0' '$in1', $WHAT '$sp0' '$sp1')"
        return
    fi
    if [ "$want" = dropped ]; then
        [ "$in1" = "$in0" ] && pass "$what: no echo request reached web-a (InEchos $in0)" \
            || fail "$what: echo requests reached web-a (InEchos $in0 -> $in1)"
        [ $((sp1 - sp0)) -ge "$N" ] && pass "... $WHAT grew by $((sp1 - sp0))" \
            || fail "... $WHAT grew by $((sp1 - sp0)), wanted >= $N ($sp0 -> $sp1)"
    else
        [ $((in1 - in0)) -eq "$N" ] && pass "$what: all $N echo requests reached web-a (InEchos $in0 -> $in1)" \
            || fail "$what: web-a's InEchos $in0 -> $in1, wanted +$N"
        [ "$sp1" = "$sp0" ] && pass "... $WHAT did not move ($sp0)" \
            || fail "... $WHAT moved ($sp0 -> $sp1)"
    fi
}

# probe WHAT NODE INNER_SRC delivered|dropped
probe() {
    local in0 in1 sp0 sp1 out
    in0=$(lab_snmp web-a Icmp InEchos); sp0=$(rx_counter)
    out=$(geneve_send "$(lab_ns "$2")" "$3" "$N" 2>&1)
    expect "$1: $N Geneve packets sent" "^sent $N from ${LAB_HOST_IP[$2]:-$ROGUE_IP}\$" <<<"$out"
    settle
    in1=$(lab_snmp web-a Icmp InEchos); sp1=$(rx_counter)
    check "$1" "$in0" "$in1" "$sp0" "$sp1" "$4"
}

echo "Rogue host $ROGUE_IP (no host of the region), VNI $VNI"
probe "rogue, inner source web-b 10.10.1.11" rogue 10.10.1.11 dropped
probe "rogue, inner source 10.10.1.99 (no ENI)" rogue 10.10.1.99 dropped
echo "Real host-b, inner source held by another host"
probe "host-b, inner source client-a 10.10.1.20 (on host-a)" host-b 10.10.1.20 dropped
echo "Positive control: the same packet from the host that holds 10.10.1.11"
probe "host-b, inner source web-b 10.10.1.11" host-b 10.10.1.11 delivered
lab_ping web-b 10.10.1.10 | expect "web-b pings web-a through OVS's own Geneve" ' 0% packet loss'

if [ "$FAILS" -ne 0 ]; then
    echo "--- host-a vpcmap/stats:"; appctl_on host-a vpcmap/stats | sed 's/^/   /'
    echo "--- host-a coverage (tunnel pop errors: dropped before any flow):"
    appctl_on host-a coverage/show | grep -E 'tunnel_pop|vpc_' | sed 's/^/   /'
    lab_dump host-a
fi
finish

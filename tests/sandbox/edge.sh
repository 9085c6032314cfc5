#!/usr/bin/env bash
# Sandbox: the edge bridge (examples/edge.json) with real frames: internet
# gateway with elastic IPs (1:1 NAT both ways, proxy ARP), NAT gateway
# (conntrack source NAT, replies only), Direct Connect (802.1ad Q-in-Q),
# and a host accepting the edge's traffic.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
EX=$TOP/examples/edge.json
IGW=15728640 NAT=15728641 DX=15728642 VPCE=15728643  # 0xf00000 + position
GW=02:99:00:00:00:01 UP=02:76:70:ee:00:fe    # uplink next hop, edge uplink

sandbox_edge edge-1 192.168.100.254
vpcctl_on edge-1 apply "$EX" --host edge-1 | expect "apply on the edge" ' [1-9][0-9]* added'

from_host() {   # from_host VNI HOST_IP INNER_SRC INNER_DST: Geneve to the edge
    appctl_on edge-1 netdev-dummy/receive p0 \
        "$(geneve_hex "$1" "$2" 192.168.100.254 02:76:70:00:0b:d6 "$3" "$4")" >/dev/null
}
on() {          # on PORT FRAME-ARGS...: a frame arriving on PORT
    local port=$1; shift
    appctl_on edge-1 netdev-dummy/receive "$port" "$(frame_hex "$@")" >/dev/null
}
count() { sleep 0.3; pcap_text edge-1 "$1" | grep -Ec -- "$2"; }

echo "Internet gateway"
from_host $IGW 192.168.100.1 10.30.1.10 8.8.8.8
wait_pcap edge-1 uplink.pcap '203.0.113.10 > 8.8.8.8' \
    | expect "out: the elastic IP replaces the private source" '203\.0\.113\.10 > 8\.8\.8\.8: ICMP echo request'
pcap_text edge-1 uplink.pcap | expect "... toward the uplink's next hop" "$UP > $GW"
from_host $IGW 192.168.100.1 10.30.1.11 8.8.8.8
[ "$(count uplink.pcap '10\.30\.1\.11|> 8\.8\.8\.8')" = 1 ] && pass "an ENI without elastic IP does not reach the internet" \
    || fail "an ENI without elastic IP reached the internet"
from_host $IGW 192.168.100.2 10.30.1.10 8.8.8.8
[ "$(count uplink.pcap '> 8\.8\.8\.8')" = 1 ] && pass "a source from the wrong host is dropped at the edge" \
    || fail "spoofed source from host-b left the edge"
appctl_on edge-1 netdev-dummy/receive uplink \
    "eth(src=$GW,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=203.0.113.1,tip=203.0.113.10,op=1,sha=$GW,tha=00:00:00:00:00:00)" >/dev/null
wait_pcap edge-1 uplink.pcap 'is-at' | expect "proxy ARP answers for the elastic IP" 'Reply 203\.0\.113\.10 is-at 02:76:70:ee:00:fe'
on uplink $GW $UP 8.8.8.8 203.0.113.10 8 5
wait_pcap edge-1 p0.pcap '8.8.8.8 > 10.30.1.10' \
    | expect "in: the private IP replaces the elastic IP, Geneve to host-a with the VPC's VNI" \
      '192\.168\.100\.254\.[0-9]+ > 192\.168\.100\.1\.6081: Geneve.*vni 0xbd6'
pcap_text edge-1 p0.pcap | expect "... inner packet to the ENI" '8\.8\.8\.8 > 10\.30\.1\.10: ICMP echo request'
on uplink $GW $UP 8.8.8.8 203.0.113.11 8 5
[ "$(count p0.pcap '> 10\.30\.2\.10')" = 0 ] && pass "an elastic IP in a subnet without a route to the IGW is not reachable" \
    || fail "eni-app (private subnet) was reached from the internet"

echo "NAT gateway"
from_host $NAT 192.168.100.2 10.30.2.10 8.8.4.4
wait_pcap edge-1 uplink.pcap '203.0.113.20 > 8.8.4.4' \
    | expect "out: source NAT to the NAT gateway's address" '203\.0\.113\.20 > 8\.8\.4\.4: ICMP echo request'
on uplink $GW $UP 8.8.4.4 203.0.113.20 0 1
wait_pcap edge-1 p0.pcap '8.8.4.4 > 10.30.2.10' \
    | expect "the reply is un-NATed and sent to host-b" '8\.8\.4\.4 > 10\.30\.2\.10: ICMP echo reply'
before=$(count p0.pcap '8\.8\.4\.4 >')
on uplink $GW $UP 8.8.4.4 203.0.113.20 8 7
[ "$(count p0.pcap '8\.8\.4\.4 >')" = "$before" ] && pass "unsolicited inbound to the NAT gateway is dropped" \
    || fail "unsolicited inbound passed the NAT gateway"

echo "Direct Connect"
from_host $DX 192.168.100.2 10.30.2.10 172.16.5.5
wait_pcap edge-1 dx.pcap '172.16.5.5' \
    | expect "out: from the edge to the customer router, S-tag 100 (0x88a8) then C-tag 200 (0x8100)" '02:76:70:ee:00:fe > 02:cc:00:00:00:01, ethertype 802\.1Q-QinQ \(0x88a8\).*vlan 100.*ethertype 802\.1Q \(0x8100\).*vlan 200'
pcap_text edge-1 dx.pcap | expect "... carrying the VPC's packet" '10\.30\.2\.10 > 172\.16\.5\.5: ICMP echo request'
on dx 02:cc:00:00:00:01 $UP 172.16.5.5 10.30.2.10 0 1 88a8:100 8100:200
wait_pcap edge-1 p0.pcap '172.16.5.5 > 10.30.2.10' \
    | expect "in: both tags popped, Geneve to host-b" '172\.16\.5\.5 > 10\.30\.2\.10: ICMP echo reply'
on dx 02:cc:00:00:00:01 $UP 10.99.0.1 10.30.2.10 0 1 88a8:100 8100:200
[ "$(count p0.pcap '10\.99\.0\.1 >')" = 0 ] && pass "a source outside the on-premises prefixes is dropped" \
    || fail "a non-on-premises source came in over Direct Connect"
on dx 02:cc:00:00:00:01 $UP 172.16.5.5 10.30.2.10 0 1 88a8:100 8100:201
[ "$(count p0.pcap '172\.16\.5\.5 >')" = 1 ] && pass "an unknown C-tag is dropped" \
    || fail "an unknown C-tag came in"

# arp_on_dx TPA CTAG: an ARP request from the customer router
# (172.16.0.2, 02:cc:00:00:00:01) for TPA on the trunk, S-tag 100 (0x88a8)
# and C-tag CTAG (0x8100), as the customer router sends it.
arp_on_dx() {
    appctl_on edge-1 netdev-dummy/receive dx "$(python3 - "$1" "$2" <<'PY'
import struct, sys
tpa, ctag = sys.argv[1], int(sys.argv[2])
ip4 = lambda s: bytes(int(x) for x in s.split('.'))
cr = bytes.fromhex('02cc00000001')
arp = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + cr + ip4('172.16.0.2') \
    + b'\0' * 6 + ip4(tpa)
print((b'\xff' * 6 + cr + struct.pack('!HHHH', 0x88a8, 100, 0x8100, ctag)
       + b'\x08\x06' + arp).hex())
PY
)" >/dev/null
}
arp_on_dx 10.30.0.1 200
wait_pcap edge-1 dx.pcap 'is-at' \
    | expect "ARP on the trunk for the gateway address 10.30.0.1: answered with the edge's MAC, S-tag 100 then C-tag 200" \
      '02:76:70:ee:00:fe > 02:cc:00:00:00:01, ethertype 802\.1Q-QinQ \(0x88a8\).*vlan 100.*ethertype 802\.1Q \(0x8100\).*vlan 200.*ARP.*Reply 10\.30\.0\.1 is-at 02:76:70:ee:00:fe'
before=$(count dx.pcap 'is-at')
arp_on_dx 10.30.0.1 201
arp_on_dx 10.30.2.10 200
[ "$(count dx.pcap 'is-at')" = "$before" ] \
    && pass "no answer on an unknown C-tag, nor for another address of the VPC" \
    || fail "the edge answered ARP on C-tag 201 or for 10.30.2.10"

echo "Gateway endpoint (S3)"
appctl_on edge-1 tnl/arp/set br-phy 192.168.100.200 02:ee:00:00:00:01 >/dev/null
from_host $VPCE 192.168.100.2 10.30.2.10 52.216.1.1
wait_pcap edge-1 p0.pcap '10.30.2.10 > 52.216.1.1' \
    | expect "to the S3 service in Geneve with the endpoint's VNI" \
      '192\.168\.100\.254\.[0-9]+ > 192\.168\.100\.200\.6081: Geneve.*vni 0xf00003'
pcap_text edge-1 p0.pcap | expect "... the source unchanged" '10\.30\.2\.10 > 52\.216\.1\.1: ICMP echo request'
from_host $VPCE 192.168.100.1 10.30.1.10 52.216.1.1
[ "$(count p0.pcap '10\.30\.1\.10 > 52\.216')" = 0 ] \
    && pass "the endpoint policy refuses a subnet it does not allow" \
    || fail "subnet-public reached S3 despite the endpoint policy"
from_host $VPCE 192.168.100.200 52.216.1.1 10.30.2.10
wait_pcap edge-1 p0.pcap '52.216.1.1 > 10.30.2.10' \
    | expect "the service's reply goes to host-b with the VPC's VNI" '52\.216\.1\.1 > 10\.30\.2\.10: ICMP echo request'
from_host $VPCE 192.168.100.9 52.216.1.1 10.30.2.10
[ "$(count p0.pcap '52\.216\.1\.1 > 10\.30\.2\.10')" = 1 ] \
    && pass "the same from another address is dropped" || fail "a non-service source was let in"

echo "Per-gateway counters"
stats=$(vpcctl_on edge-1 gateway-stats "$EX" --host edge-1); echo "$stats" > "$TEST_DIR/stats.txt"
awk '$1 == "igw-shop" && $3 == 1 && $5 == 1' <<<"$stats" | expect "igw-shop: one packet each way (refused ones not counted)" igw-shop
awk '$1 == "nat-shop" && $3 == 1 && $5 == 1 && $7 == 1' <<<"$stats" \
    | expect "nat-shop: one packet each way, one translation in use" nat-shop
awk '$1 == "dxvif-shop" && $3 == 1 && $5 == 1' <<<"$stats" | expect "dxvif-shop: one packet each way" dxvif-shop
awk '$1 == "vpce-s3" && $3 == 1 && $5 == 1' <<<"$stats" | expect "vpce-s3: one packet each way" vpce-s3

echo "Hosts accept the edge's traffic"
ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web 1 eni-web
vpcctl_on host-a apply "$EX" --host host-a >/dev/null
n=$(rx_packet host-a vm-web 3030 192.168.100.254 02:00:00:30:01:0a 8.8.8.8 10.30.1.10)
[ "$n" = 1 ] && pass "internet traffic from the edge is delivered to eni-web" \
    || fail "internet traffic from the edge is delivered to eni-web ($n)"
n=$(rx_packet host-a vm-web 3030 192.168.100.2 02:00:00:30:01:0a 8.8.8.8 10.30.1.10)
[ "$n" = 0 ] && pass "the same from a host is not" || fail "the same from host-b was delivered"
finish

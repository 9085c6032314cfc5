#!/usr/bin/env bash
# Sandbox: the VPN gateway's data plane on the edge bridge
# (examples/vpn.json) with real frames, no IPsec: the VPN port is a dummy
# port standing for the edge kernel's vpn0 (pipeline/vpn.h).  Traffic from a
# host with the vgw's VNI leaves the VPN port as plain IP toward the kernel;
# what the kernel routes back in (from on-premises, out of IPsec) goes to the
# ENI's host in Geneve; anything else is dropped.  tests/netns/vpn.sh runs
# the real thing with strongSwan.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
EX=$TOP/examples/vpn.json
VGW=15728640                                 # 0xf00000 + gateway position
BR=02:76:70:ee:ff:01 PORT=02:76:70:ee:ff:02  # VPN link: bridge, kernel side

ovs_start edge-1
sandbox_host edge-1 192.168.100.254
D=${OVS_DIR[edge-1]}
vsctl_on edge-1 add-port br-int vpn0 -- set interface vpn0 type=dummy \
    ofport_request=4 options:tx_pcap="$D/vpn0.pcap" external_ids:vpc-edge-port=vpn
vpcctl_on edge-1 apply "$EX" --host edge-1 | expect "apply on the edge" ' [1-9][0-9]* added'

from_host() {   # from_host VNI HOST_IP INNER_SRC INNER_DST: Geneve to the edge
    appctl_on edge-1 netdev-dummy/receive p0 \
        "$(geneve_hex "$1" "$2" 192.168.100.254 02:76:70:00:0f:c8 "$3" "$4")" >/dev/null
}
on_vpn() {      # on_vpn SRC DST: an echo request from the kernel into vpn0
    appctl_on edge-1 netdev-dummy/receive vpn0 "$(frame_hex $PORT $BR "$1" "$2" 8 9)" >/dev/null
}
count() { sleep 0.3; pcap_text edge-1 "$1" | grep -Ec -- "$2"; }

echo "Out: VPC -> on-premises"
from_host $VGW 192.168.100.1 10.40.1.10 172.16.1.10
wait_pcap edge-1 vpn0.pcap '10.40.1.10 > 172.16.1.10' | tr -d '\n' \
    | expect "a Geneve frame with the vgw's VNI leaves the VPN port decapsulated (to the kernel's MAC, TTL decremented)" \
      "$BR > $PORT, ethertype IPv4.*ttl 63.*10\.40\.1\.10 > 172\.16\.1\.10: ICMP echo request"
pcap_text edge-1 vpn0.pcap | expect_not "... plain IP, no Geneve header" Geneve
from_host $VGW 192.168.100.1 10.40.1.10 172.17.0.1
[ "$(count vpn0.pcap '> 172\.17\.0\.1')" = 0 ] && pass "a destination outside the on-premises prefixes is dropped" \
    || fail "a non-on-premises destination left through the VPN port"
from_host $VGW 192.168.100.2 10.40.1.10 172.16.1.10
[ "$(count vpn0.pcap '10\.40\.1\.10 > 172\.16\.1\.10')" = 1 ] && pass "a source from the wrong host is dropped" \
    || fail "spoofed source from host-b left through the VPN port"
from_host 15728641 192.168.100.1 10.40.1.10 172.16.1.10
[ "$(count vpn0.pcap '10\.40\.1\.10 > 172\.16\.1\.10')" = 1 ] && pass "an unknown gateway VNI is dropped" \
    || fail "an unknown gateway VNI reached the VPN port"

echo "In: on-premises -> VPC"
appctl_on edge-1 netdev-dummy/receive vpn0 \
    "eth(src=$PORT,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=169.254.0.2,tip=169.254.0.1,op=1,sha=$PORT,tha=00:00:00:00:00:00)" >/dev/null
wait_pcap edge-1 vpn0.pcap 'is-at' | expect "the bridge answers the kernel's ARP on the VPN port" \
    "Reply 169\.254\.0\.1 is-at $BR"
on_vpn 172.16.1.10 10.40.1.20
wait_pcap edge-1 p0.pcap '172.16.1.10 > 10.40.1.20' \
    | expect "an on-premises source to a VPC ENI goes to its host in Geneve with the VPC's VNI" \
      '192\.168\.100\.254\.[0-9]+ > 192\.168\.100\.2\.6081: Geneve.*vni 0xfc8'
pcap_text edge-1 p0.pcap | tr -d '\n' | expect "... inner frame to the ENI's MAC, TTL decremented" \
    '02:76:70:00:0f:c8 > 02:00:00:40:01:14.*ttl 63.*172\.16\.1\.10 > 10\.40\.1\.20: ICMP echo request'
on_vpn 10.99.0.1 10.40.1.20
[ "$(count p0.pcap '10\.99\.0\.1 >')" = 0 ] && pass "a source outside the on-premises prefixes is dropped" \
    || fail "a non-on-premises source came in through the VPN port"
on_vpn 172.16.1.10 10.41.0.1
[ "$(count p0.pcap '> 10\.41\.0\.1')" = 0 ] && pass "a destination outside the VPC is dropped" \
    || fail "a destination outside the VPC came in through the VPN port"

echo "Hosts accept the edge's traffic"
ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-app 1 eni-app
vpcctl_on host-a apply "$EX" --host host-a >/dev/null
n=$(rx_packet host-a vm-app 4040 192.168.100.254 02:00:00:40:01:0a 172.16.1.10 10.40.1.10)
[ "$n" = 1 ] && pass "on-premises traffic from the edge is delivered to eni-app" \
    || fail "on-premises traffic from the edge is delivered to eni-app ($n)"
n=$(rx_packet host-a vm-app 4040 192.168.100.2 02:00:00:40:01:0a 172.16.1.10 10.40.1.10)
[ "$n" = 0 ] && pass "the same from a host is not" || fail "the same from host-b was delivered"
finish

#!/usr/bin/env bash
# Netns lab, real packets: examples/edge.json.  host-a (eni-web with elastic
# IP 203.0.113.10, eni-noeip), host-b (eni-app, private subnet) and the edge
# edge-1 (192.168.100.254), each a netns with its own userspace OVS, Geneve
# between them.  The edge's br-int has an uplink to an "internet" netns
# (next hop 02:99:00:00:00:01, 203.0.113.1/24, 8.8.8.8 on its loopback) and
# a Direct Connect trunk to a customer router (its own userspace OVS, per
# /work/shared/design/edge-notes.md part B) that pops/pushes S-tag 100 and
# C-tag 200 toward an on-premises host 172.16.1.10/12.
#
# Checks: internet gateway with elastic IPs (1:1 NAT both ways, proxy ARP,
# ICMP and TCP), no internet for an ENI without elastic IP or in a private
# subnet, NAT gateway (replies only), Direct Connect (Q-in-Q on the trunk).
. "$(dirname "$0")/lab.sh"
EX=$TOP/examples/edge.json
UPLINK_MAC=02:76:70:ee:00:fe    # the edge's uplink MAC (intent)
NEXTHOP_MAC=02:99:00:00:00:01   # uplink_gateway_mac: the internet router
CR_MAC=02:cc:00:00:00:01        # customer router, on-premises side
ONPREM_MAC=02:cc:00:00:01:0a    # on-premises host
lab_require
command -v tcpdump >/dev/null || skip "no tcpdump"

lab_host host-a 192.168.100.1
lab_host host-b 192.168.100.2
lab_host edge-1 192.168.100.254
#      host   vm     eni        mac (from the intent) ip           router
lab_vm host-a web   eni-web   02:00:00:30:01:0a 10.30.1.10/24 10.30.1.1
lab_vm host-a noeip eni-noeip 02:00:00:30:01:0b 10.30.1.11/24 10.30.1.1
lab_vm host-b app   eni-app   02:00:00:30:02:0a 10.30.2.10/24 10.30.2.1

# The internet: the edge's uplink port up0 (no IP) <-> eth0 of "inet", the
# next hop, with the elastic IPs on-link.
lab_node inet
lab_veth edge-1 up0 inet eth0
lab_in inet ip link set eth0 address $NEXTHOP_MAC
lab_in inet ip addr add 203.0.113.1/24 dev eth0
lab_in inet ip addr add 8.8.8.8/32 dev lo

# Direct Connect: the edge's dx0 =trunk= "cr" (customer router: OVS) - op0
# = eth0 of "onprem".  MTU 1508 on the trunk for the two tags.
lab_node cr
lab_node onprem
lab_veth edge-1 dx0 cr trunk
lab_veth cr op0 onprem eth0
lab_in edge-1 ip link set dx0 mtu 1508
lab_in cr ip link set trunk mtu 1508
lab_in onprem ip link set eth0 address $ONPREM_MAC
lab_in onprem ip addr add 172.16.1.10/12 dev eth0
lab_in onprem ip route add 10.30.0.0/16 via 172.16.0.1
lab_in onprem ip neigh replace 172.16.0.1 lladdr $CR_MAC dev eth0 nud permanent
ovs_start cr "$(lab_ns cr)"
vsctl_on cr set Open_vSwitch . other_config:vlan-limit=2 \
    -- add-br br-cr -- set bridge br-cr datapath_type=netdev fail-mode=secure \
    -- add-port br-cr op0 -- set interface op0 ofport_request=1 \
    -- add-port br-cr trunk -- set interface trunk ofport_request=2
# On-premises -> VPC: route (MACs, TTL), C-tag 200, S-tag 100, trunk.
# Trunk -> on-premises: S-tag 100, then C-tag 200, popped; route.
ofctl_on cr add-flows br-cr - <<EOF
table=0,priority=10,in_port=1,ip,nw_dst=10.30.0.0/16 actions=set_field:$CR_MAC->eth_src,set_field:02:cc:00:00:00:02->eth_dst,dec_ttl,push_vlan:0x8100,set_field:$((0x1000 | 200))->vlan_vid,push_vlan:0x88a8,set_field:$((0x1000 | 100))->vlan_vid,output:2
table=0,priority=10,in_port=2,dl_vlan=100 actions=pop_vlan,goto_table:1
table=0,priority=0 actions=drop
table=1,priority=10,in_port=2,dl_vlan=200,ip,nw_dst=172.16.1.10 actions=pop_vlan,set_field:$CR_MAC->eth_src,set_field:$ONPREM_MAC->eth_dst,dec_ttl,output:1
table=1,priority=0 actions=drop
EOF

# The edge: the uplink and Direct Connect ports; Q-in-Q parsing (vlan-limit
# 2, and a restart so that the datapath's VLAN depth is probed again).
vsctl_on edge-1 \
    -- add-port br-int up0 -- set interface up0 external_ids:vpc-edge-port=uplink \
    -- add-port br-int dx0 -- set interface dx0 external_ids:vpc-edge-port=dx
lab_vlan_limit edge-1 2
lab_warm
lab_apply "$EX"

echo "Internet gateway: internet -> eni-web (elastic IP 203.0.113.10)"
lab_capture web "$TEST_DIR/web.txt" -i eth0 ip
CAP=$LAB_LAST_PID
lab_ping inet 203.0.113.10 | expect "internet pings eni-web's elastic IP 203.0.113.10" ' 0% packet loss'
lab_in inet ip neigh show 203.0.113.10 dev eth0 \
    | expect "... the edge answered ARP for it with its uplink MAC" "lladdr $UPLINK_MAC"
echo SRV-WEB-80 > "$TEST_DIR/web-80.banner"
lab_bg web nc -n -v -N -l -p 80 < "$TEST_DIR/web-80.banner" \
    > "$TEST_DIR/web-80.in" 2> "$TEST_DIR/web-80.log"
for _ in $(seq 40); do
    lab_in web ss -Hltn "sport = :80" | grep -q . && break; sleep 0.05
done
got=$(echo INET-HELLO | lab_in inet timeout 5 nc -N -w 3 -s 8.8.8.8 203.0.113.10 80 2>&1)
expect "internet (8.8.8.8) -> 203.0.113.10:80: eni-web's banner comes back" '^SRV-WEB-80$' <<<"$got"
lab_wait_file "$TEST_DIR/web-80.in" INET-HELLO
expect "... the client's data reaches eni-web's server" '^INET-HELLO$' < "$TEST_DIR/web-80.in"
expect "... which sees the client's real address 8.8.8.8" 'Connection received on 8\.8\.8\.8 ' \
    < "$TEST_DIR/web-80.log"
lab_wait_file "$TEST_DIR/web.txt" '> 10\.30\.1\.10\.80: Flags \[F'
lab_stop "$CAP"
expect "eni-web's eth0 saw the echo requests to its private IP" \
    '203\.0\.113\.1 > 10\.30\.1\.10: ICMP echo request' < "$TEST_DIR/web.txt"
expect "... and the TCP segments from 8.8.8.8 to 10.30.1.10:80" \
    '8\.8\.8\.8\.[0-9]+ > 10\.30\.1\.10\.80: ' < "$TEST_DIR/web.txt"
expect_not "... and never its elastic IP 203.0.113.10" '203\.0\.113\.10' < "$TEST_DIR/web.txt"

echo "Internet gateway: eni-web -> internet"
lab_capture inet "$TEST_DIR/inet-web.txt" -i eth0 icmp
CAP=$LAB_LAST_PID
lab_ping web 8.8.8.8 | expect "eni-web pings 8.8.8.8" ' 0% packet loss'
lab_wait_file "$TEST_DIR/inet-web.txt" 'echo reply.*seq 3'
lab_stop "$CAP"
expect "... the internet sees source 203.0.113.10, from the uplink MAC to the next hop" \
    "$UPLINK_MAC > $NEXTHOP_MAC, .*203\.0\.113\.10 > 8\.8\.8\.8: ICMP echo request" \
    < "$TEST_DIR/inet-web.txt"
expect_not "... and never the private 10.30.1.10" '10\.30\.1\.10' < "$TEST_DIR/inet-web.txt"

echo "No internet without an elastic IP or from a private subnet"
before=$(lab_snmp inet Icmp InEchos)
lab_ping noeip 8.8.8.8 | expect "eni-noeip (no elastic IP) -> 8.8.8.8: no reply" ' 100% packet loss'
after=$(lab_snmp inet Icmp InEchos)
[ "$before" = "$after" ] && pass "... and nothing reached the internet" \
    || fail "eni-noeip's echo requests reached the internet ($before -> $after)"
# The edge does not answer ARP for 203.0.113.11 (eni-app's elastic IP, but
# subnet-private has no route to igw-shop): send to the uplink MAC anyway,
# so that the edge's pipeline, not ARP, is what drops it.
lab_in inet ip neigh replace 203.0.113.11 lladdr $UPLINK_MAC dev eth0 nud permanent
before=$(lab_snmp app Icmp InEchos)
lab_ping inet 203.0.113.11 | expect "internet -> 203.0.113.11 (eni-app, private subnet): no reply" ' 100% packet loss'
after=$(lab_snmp app Icmp InEchos)
[ "$before" = "$after" ] && pass "... and no echo request reached eni-app" \
    || fail "the internet reached eni-app through its elastic IP ($before -> $after)"

echo "NAT gateway (203.0.113.20)"
lab_capture inet "$TEST_DIR/inet-nat.txt" -i eth0 icmp
CAP=$LAB_LAST_PID
lab_ping app 8.8.8.8 | expect "eni-app (private subnet) pings 8.8.8.8 through nat-shop" ' 0% packet loss'
lab_wait_file "$TEST_DIR/inet-nat.txt" 'echo reply.*seq 3'
lab_stop "$CAP"
expect "... the internet sees source 203.0.113.20" \
    '203\.0\.113\.20 > 8\.8\.8\.8: ICMP echo request' < "$TEST_DIR/inet-nat.txt"
expect_not "... and never the private 10.30.2.10" '10\.30\.2\.10' < "$TEST_DIR/inet-nat.txt"
before=$(lab_snmp app Icmp InEchos)
lab_ping inet 203.0.113.20 | expect "unsolicited internet -> 203.0.113.20: no reply" ' 100% packet loss'
lab_listen app 80 SRV-APP-80
expect_status "unsolicited internet -> 203.0.113.20:80 does not connect (sg-shop would allow it)" 1 \
    lab_in inet nc -z -w 2 203.0.113.20 80
after=$(lab_snmp app Icmp InEchos)
[ "$before" = "$after" ] && pass "... no echo request reached eni-app" \
    || fail "unsolicited echo requests reached eni-app through the NAT gateway ($before -> $after)"
# A connection would have ended the one-shot listener.
if lab_in app ss -Hltn "sport = :80" | grep -q . && ! [ -s "$TEST_DIR/app-80.in" ]; then
    pass "... and eni-app's port 80 listener is still waiting"
else
    fail "eni-app's port 80 listener was reached through the NAT gateway"
fi

echo "Direct Connect (S-tag 100, C-tag 200)"
lab_capture cr "$TEST_DIR/trunk.txt" -i trunk vlan 100 and vlan 200 and icmp
CAP=$LAB_LAST_PID
lab_ping onprem 10.30.2.10 | expect "on-premises 172.16.1.10 pings eni-app 10.30.2.10 over Direct Connect" ' 0% packet loss'
lab_wait_file "$TEST_DIR/trunk.txt" 'echo reply.*seq 3'
lab_stop "$CAP"
expect "the trunk carries the request with S-tag 100 (0x88a8) then C-tag 200 (0x8100)" \
    '802\.1Q-QinQ \(0x88a8\).*vlan 100.*802\.1Q \(0x8100\).*vlan 200.*172\.16\.1\.10 > 10\.30\.2\.10: ICMP echo request' \
    < "$TEST_DIR/trunk.txt"
expect "... and the edge sends the reply back with the same tags" \
    '802\.1Q-QinQ \(0x88a8\).*vlan 100.*802\.1Q \(0x8100\).*vlan 200.*10\.30\.2\.10 > 172\.16\.1\.10: ICMP echo reply' \
    < "$TEST_DIR/trunk.txt"
# OpenFlow counters of edge_dx_in (the revalidators credit them from the
# datapath flows, which needs both tags parsed: see lab_vlan_limit).
dxin=$(ofctl_on edge-1 dump-flows br-int | grep 'dl_vlan=200,nw_src=172\.16\.0\.0/12')
t=$(sed -nE 's/.* table=([0-9]+),.*/\1/p' <<<"$dxin")
for _ in $(seq 30); do
    n=$(ofctl_on edge-1 dump-flows br-int "table=$t" | grep 'dl_vlan=200,nw_src' | sed -nE 's/.*n_packets=([0-9]+),.*/\1/p')
    [ "${n:-0}" -ge 3 ] && break; sleep 0.1
done
nd=$(ofctl_on edge-1 dump-flows br-int "table=$t" | grep 'priority=0 ' | sed -nE 's/.*n_packets=([0-9]+),.*/\1/p')
[ "${n:-0}" -ge 3 ] && [ "$nd" = 0 ] \
    && pass "edge_dx_in (table $t) counted the requests on its C-tag 200 rule, none on its drop rule" \
    || fail "edge_dx_in (table $t) counters: C-tag rule ${n:-?}, drop rule ${nd:-?} (wanted >= 3 and 0)"
lab_in onprem ip addr add 192.0.2.99/32 dev eth0
before=$(lab_snmp app Icmp InEchos)
lab_ping onprem 10.30.2.10 -I 192.0.2.99 \
    | expect "on-premises host from 192.0.2.99 (not an on-premises prefix of dxvif-shop): no reply" ' 100% packet loss'
after=$(lab_snmp app Icmp InEchos)
[ "$before" = "$after" ] && pass "... and no echo request reached eni-app" \
    || fail "a source outside 172.16.0.0/12 came in over Direct Connect ($before -> $after)"

if [ "$FAILS" -ne 0 ]; then
    lab_dump edge-1; lab_dump host-a; lab_dump host-b
    echo "--- edge-1 conntrack:"; appctl_on edge-1 dpctl/dump-conntrack | sed 's/^/   /'
    echo "--- cr br-cr flows:"; ofctl_on cr dump-flows br-cr | sed 's/^/   /'
fi
finish

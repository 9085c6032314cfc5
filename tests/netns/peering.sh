#!/usr/bin/env bash
# Netns lab, real packets: examples/peering.json.  vpc-a and vpc-b are peered
# (pcx-ab) and route to each other; vpc-c has no peering and no routes.
. "$(dirname "$0")/lab.sh"
EX=$TOP/examples/peering.json
lab_require

lab_host host-a 192.168.100.1
lab_host host-b 192.168.100.2
for v in a:1 b:2 c:3; do
    x=${v%:*} n=${v#*:}
    lab_vm host-a "$x"1 "eni-${x}1" "02:00:00:0$x:01:0a" "10.$n.1.10/24" "10.$n.1.1"
    lab_vm host-b "$x"2 "eni-${x}2" "02:00:00:0$x:01:14" "10.$n.1.20/24" "10.$n.1.1"
done
lab_warm
lab_apply "$EX"

echo "Within a VPC"
lab_ping a1 10.1.1.20 | expect "a1 (host-a) pings a2 (host-b)" ' 0% packet loss'
lab_ping c1 10.3.1.20 | expect "c1 (host-a) pings c2 (host-b)" ' 0% packet loss'
echo "Peered: vpc-a <-> vpc-b through pcx-ab"
lab_ping a1 10.2.1.20 | expect "a1 (host-a) pings b2 (host-b)" ' 0% packet loss'
lab_ping b2 10.1.1.10 | expect "b2 (host-b) pings a1 (host-a)" ' 0% packet loss'
lab_ping b1 10.1.1.20 | expect "b1 (host-a) pings a2 (host-b)" ' 0% packet loss'
lab_ping a1 10.2.1.10 | expect "a1 pings b1 on the same host" ' 0% packet loss'
lab_listen b2 8000 BANNER-b2
lab_connect a1 10.2.1.20 8000 FROM-A1 | expect "a1 -> b2:8000 TCP both ways" '^BANNER-b2$'
echo "Not peered: vpc-c"
c0="$(lab_snmp c1 Icmp InEchos) $(lab_snmp c2 Icmp InEchos)"
lab_ping a1 10.3.1.20 | expect "a1 cannot reach c2 (no route, no peering)" ' 100% packet loss'
lab_ping a1 10.3.1.10 | expect "a1 cannot reach c1 on the same host" ' 100% packet loss'
lab_ping b2 10.3.1.20 | expect "b2 cannot reach c2 on the same host" ' 100% packet loss'
c1="$(lab_snmp c1 Icmp InEchos) $(lab_snmp c2 Icmp InEchos)"
[ "$c0" = "$c1" ] && pass "... no echo request reached c1 or c2" \
    || fail "echo requests reached vpc-c: InEchos c1 c2 $c0 -> $c1"
lab_ping c1 10.1.1.10 | expect "c1 cannot reach a1 (rtb-c has no routes)" ' 100% packet loss'
lab_ping c2 10.2.1.10 | expect "c2 cannot reach b1" ' 100% packet loss'
lab_listen c2 8000 BANNER-c2
expect_status "a1 -> c2:8000 does not connect" 1 lab_in a1 nc -z -w 2 10.3.1.20 8000

if [ "$FAILS" -ne 0 ]; then lab_dump host-a; lab_dump host-b; fi
finish

#!/usr/bin/env bash
# Netns lab, real packets: examples/overlapping-ips.json.  vpc-red, vpc-blue
# and vpc-green all use 10.0.1.0/24; each has 10.0.1.10 on host-a and
# 10.0.1.20 on host-b.  Only the VPC (VNI) may decide who gets a packet.
. "$(dirname "$0")/lab.sh"
EX=$TOP/examples/overlapping-ips.json
lab_require

lab_host host-a 192.168.100.1
lab_host host-b 192.168.100.2
for c in red:01 blue:02 green:03; do
    vpc=${c%:*} vv=${c#*:}
    lab_vm host-a "$vpc-a" "eni-$vpc-a" "02:00:00:$vv:01:0a" 10.0.1.10/24 10.0.1.1
    lab_vm host-b "$vpc-b" "eni-$vpc-b" "02:00:00:$vv:01:14" 10.0.1.20/24 10.0.1.1
done
lab_warm
lab_apply "$EX"

echo "ICMP: the echo requests reach only the sender's VPC"
echos() { echo "$(lab_snmp red-a Icmp InEchos) $(lab_snmp blue-a Icmp InEchos) $(lab_snmp green-a Icmp InEchos)"; }
read -r r0 b0 g0 <<<"$(echos)"
lab_ping red-b 10.0.1.10 | expect "red-b (host-b) pings 10.0.1.10" ' 0% packet loss'
read -r r1 b1 g1 <<<"$(echos)"
[ "$r1" -gt "$r0" ] && pass "... red-a received the echo requests ($r0 -> $r1)" \
    || fail "red-a received no echo request ($r0 -> $r1)"
[ "$b1" = "$b0" ] && [ "$g1" = "$g0" ] && pass "... blue-a and green-a received none" \
    || fail "blue-a ($b0 -> $b1) or green-a ($g0 -> $g1) received red's echo requests"
lab_ping blue-b 10.0.1.10 | expect "blue-b (host-b) pings 10.0.1.10" ' 0% packet loss'
read -r r2 b2 g2 <<<"$(echos)"
[ "$b2" -gt "$b1" ] && [ "$r2" = "$r1" ] && [ "$g2" = "$g1" ] \
    && pass "... only blue-a received them" \
    || fail "blue-b's echo requests: red-a $r1 -> $r2, blue-a $b1 -> $b2, green-a $g1 -> $g2"
lab_ping green-a 10.0.1.20 | expect "green-a (host-a) pings 10.0.1.20 (green-b)" ' 0% packet loss'
lab_ping red-a 10.0.1.1 | expect "red-a pings its router 10.0.1.1" ' 0% packet loss'

echo "TCP: the answer comes from the sender's VPC (banners)"
for v in red blue green; do lab_listen "$v-a" 7000 "BANNER-$v-a"; done
lab_connect red-b 10.0.1.10 7000 FROM-RED-B | expect "red-b -> 10.0.1.10:7000 answered by red-a" '^BANNER-red-a$'
lab_connect blue-b 10.0.1.10 7000 FROM-BLUE-B | expect "blue-b -> 10.0.1.10:7000 answered by blue-a" '^BANNER-blue-a$'
lab_connect green-b 10.0.1.10 7000 FROM-GREEN-B | expect "green-b -> 10.0.1.10:7000 answered by green-a" '^BANNER-green-a$'
sleep 0.2
for v in red blue green; do
    cat "$TEST_DIR/$v-a-7000.in" | expect "$v-a received only $v-b's data" "^FROM-${v^^}-B\$"
done

if [ "$FAILS" -ne 0 ]; then lab_dump host-a; lab_dump host-b; fi
finish

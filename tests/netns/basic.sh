#!/usr/bin/env bash
# Netns lab, real packets: examples/web-tier.json on two hosts (host-a,
# host-b), each a netns with its own userspace OVS, Geneve between them.
# Connectivity, the router address, security groups (TCP 443 allowed, 22
# dropped, stateful return traffic) and port security (spoofed source).
. "$(dirname "$0")/lab.sh"
EX=$TOP/examples/web-tier.json
lab_require

lab_host host-a 192.168.100.1
lab_host host-b 192.168.100.2
#      host   vm        eni           mac (from the intent) ip              router
lab_vm host-a web-a    eni-web-a    02:00:00:10:01:0a 10.10.1.10/24 10.10.1.1
lab_vm host-a client-a eni-client-a 02:00:00:10:01:14 10.10.1.20/24 10.10.1.1
lab_vm host-b web-b    eni-web-b    02:00:00:10:01:0b 10.10.1.11/24 10.10.1.1
lab_vm host-b app-b    eni-app-b    02:00:00:10:02:0a 10.10.2.10/24 10.10.2.1
lab_warm
lab_apply "$EX"

echo "ICMP"
lab_ping web-a 10.10.1.11 | expect "web-a (host-a) pings web-b (host-b) through Geneve" ' 0% packet loss'
lab_ping web-b 10.10.1.10 | expect "web-b (host-b) pings web-a (host-a)" ' 0% packet loss'
lab_ping client-a 10.10.1.10 | expect "client-a pings web-a on the same host" ' 0% packet loss'
lab_ping web-a 10.10.1.1 | expect "web-a pings its subnet router 10.10.1.1" ' 0% packet loss'
lab_ping app-b 10.10.2.1 | expect "app-b pings its subnet router 10.10.2.1" ' 0% packet loss'
lab_ping web-b 10.10.1.20 | expect "nothing opens a connection to client-a (sg-client: no ingress)" ' 100% packet loss'
lab_ping web-a 10.10.2.10 | expect "ping to app-b is dropped (sg-app)" ' 100% packet loss'

echo "TCP and security groups"
lab_listen web-b 443 SRV-WEB-B-443
got=$(lab_connect client-a 10.10.1.11 443 CLIENT-HELLO)
expect "client-a -> web-b:443: the server's banner comes back (return traffic)" '^SRV-WEB-B-443$' <<<"$got"
sleep 0.2
expect "client-a -> web-b:443: the client's data arrives" '^CLIENT-HELLO$' < "$TEST_DIR/web-b-443.in"

lab_listen web-b 22 SRV-WEB-B-22
t0=$(date +%s%N)
expect_status "client-a -> web-b:22 does not connect (sg-web has no rule for 22)" 1 \
    lab_in client-a nc -z -w 2 10.10.1.11 22
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -ge 1500 ] && pass "... it timed out after ${ms} ms: dropped, not refused" \
    || fail "client-a -> web-b:22 ended after ${ms} ms: refused, not dropped"
[ -s "$TEST_DIR/web-b-22.in" ] && fail "web-b's port 22 listener received data" \
    || pass "web-b's port 22 listener received nothing"

lab_listen app-b 8080 SRV-APP-B-8080
lab_connect web-a 10.10.2.10 8080 WEB-A-HELLO \
    | expect "web-a -> app-b:8080 (sg-app allows members of sg-web), across subnets and hosts" '^SRV-APP-B-8080$'
lab_listen app-b 8080 SRV-APP-B-8080
expect_status "client-a -> app-b:8080 does not connect (client-a is not in sg-web)" 1 \
    lab_in client-a nc -z -w 2 10.10.2.10 8080

echo "Port security"
lab_in client-a ip addr add 10.10.1.99/24 dev eth0
before=$(lab_snmp web-b Icmp InEchos)
lab_ping client-a 10.10.1.11 -I 10.10.1.99 \
    | expect "client-a pinging from a spoofed source 10.10.1.99 gets no reply" ' 100% packet loss'
after=$(lab_snmp web-b Icmp InEchos)
[ "$before" = "$after" ] && pass "... and no spoofed echo request reached web-b" \
    || fail "spoofed echo requests reached web-b ($before -> $after)"
lab_ping client-a 10.10.1.11 -I 10.10.1.20 | expect "client-a from its own address still works" ' 0% packet loss'
after2=$(lab_snmp web-b Icmp InEchos)
[ "$after2" -gt "$after" ] && pass "... and those echo requests reach web-b" \
    || fail "web-b's InEchos did not grow ($after -> $after2)"

if [ "$FAILS" -ne 0 ]; then lab_dump host-a; lab_dump host-b; fi
finish

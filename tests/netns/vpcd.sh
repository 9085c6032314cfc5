#!/usr/bin/env bash
# Netns lab, real packets: examples/web-tier.json on host-a and host-b, each
# with its own vpcd (inside the host's netns, HTTP API there).  Both
# converge and forward; five PUTs and an invalid one while a ping runs lose
# no packet; an ENI moved from host-b to host-a (VM re-plugged, document
# PUT to both) is reached on its new host.
. "$(dirname "$0")/lab.sh"
. "$TOP/tests/vpcd-lib.sh"
SG_IN=$(stage_table sg_in)
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

PUT_MS=()       # round trip of every successful PUT
APPLY_MS=()     # vpcd's own apply_ms of every successful PUT
# put_all WHAT FILE [STATUS]: PUT FILE to both vpcd's, expect STATUS (200).
put_all() {
    local h want=${3:-200} ok=1 msg=
    for h in host-a host-b; do
        vpcd_http "$h" PUT /v1/intents "$2" >/dev/null
        if [ "$VPCD_STATUS" != "$want" ]; then
            ok=0; msg+=" $h: $VPCD_STATUS $VPCD_BODY"
        elif [ "$want" = 200 ]; then
            PUT_MS+=("$VPCD_MS")
            APPLY_MS+=("$(jq -r .apply_ms <<<"$VPCD_BODY")")
        fi
    done
    [ $ok = 1 ] && pass "$1 (HTTP $want on both)" || fail "$1:$msg"
}
# doc N JQ-FILTER: $TEST_DIR/vN.json, the web tier changed by JQ-FILTER.
doc() { jq "$2" "$EX" > "$TEST_DIR/v$1.json"; }

echo "vpcd on both hosts"
for h in host-a host-b; do vpcd_start "$h" "$(lab_ns "$h")"; done
put_all "PUT the web tier to both vpcd's" "$EX"
for h in host-a host-b; do
    vpcd_expect_wait "$h converges (version 1, in sync)" "$h" '.in_sync and .version == 1'
    [ "$(of_count "$h")" = "$(vpcd_status "$h" .flows)" ] \
        && pass "$h's br-int holds the flows its vpcd reports" \
        || fail "$h's br-int: $(of_count "$h") flows, vpcd: $(vpcd_status "$h" .flows)"
done
lab_ping web-a 10.10.1.11 | expect "web-a (host-a) pings web-b (host-b)" ' 0% packet loss'
lab_ping web-b 10.10.1.10 | expect "web-b (host-b) pings web-a (host-a)" ' 0% packet loss'
lab_ping web-a 10.10.2.10 | expect "ping to app-b is dropped (sg-app)" ' 100% packet loss'

echo "Changes while traffic flows"
doc 2 '(.security_groups[] | select(.id == "sg-app") | .ingress) += [{"protocol": "tcp", "from_port": 9000, "to_port": 9000, "cidr": "10.10.0.0/16"}]'
doc 3 '(.route_tables[] | select(.id == "rtb-web") | .routes) += [{"destination": "198.51.100.0/24", "target": "igw-web"}]'
doc 4 '.vpcs += [{"id": "vpc-other", "cidr_blocks": ["10.20.0.0/16"], "vni": 2020}]
       | .security_groups += [{"id": "sg-other", "vpc": "vpc-other", "ingress": [], "egress": [{"protocol": "-1", "cidr": "0.0.0.0/0"}]}]
       | .subnets += [{"id": "subnet-other", "vpc": "vpc-other", "cidr": "10.20.1.0/24"}]
       | .enis += [{"id": "eni-other", "subnet": "subnet-other", "host": "host-b", "mac": "02:00:00:20:01:0a", "private_ip": "10.20.1.10", "security_groups": ["sg-other"]}]
       | (.route_tables[] | select(.id == "rtb-web") | .routes) += [{"destination": "198.51.100.0/24", "target": "igw-web"}]'
jq '(.security_groups[] | select(.id == "sg-web") | .ingress) += [{"protocol": "tcp", "from_port": 8443, "to_port": 8443, "cidr": "0.0.0.0/0"}]' \
    "$TEST_DIR/v4.json" > "$TEST_DIR/v5.json"
jq '(.security_groups[] | select(.id == "sg-app") | .ingress) += [{"protocol": "tcp", "from_port": 9000, "to_port": 9000, "cidr": "10.10.0.0/16"}]' \
    "$TEST_DIR/v5.json" > "$TEST_DIR/v6.json"
sed 's/"10.10.1.0\/24"/"10.10.1.0\/33"/' "$TEST_DIR/v6.json" > "$TEST_DIR/bad.json"

lab_bg web-a ping -n -i 0.05 -c 200 -W 1 10.10.1.11 > "$TEST_DIR/ping.out" 2>&1
ping_pid=$LAB_LAST_PID
sleep 1
put_all "v2: sg-app gains an ingress rule" "$TEST_DIR/v2.json"; sleep 1
put_all "v3: the rule goes, rtb-web gains a route" "$TEST_DIR/v3.json"; sleep 1
put_all "v4: an unrelated VPC with an ENI on host-b" "$TEST_DIR/v4.json"; sleep 1
put_all "v5: sg-web (web-b's own group) gains a rule" "$TEST_DIR/v5.json"; sleep 1
put_all "v6: sg-app gains the rule again" "$TEST_DIR/v6.json"; sleep 1
put_all "an invalid document is refused" "$TEST_DIR/bad.json" 400
for h in host-a host-b; do
    vpcd_expect_wait "$h: version 6, in sync" "$h" '.in_sync and .version == 6'
done
ofctl_on host-b dump-flows br-int table=$SG_IN | expect "host-b has web-b's new sg_in flow (8443)" 'tp_dst=8443'
ofctl_on host-b dump-flows br-int | expect "host-b has flows for the new VPC (VNI 2020, its ENI placed there)" '(reg1|tun_id)=0x7e4'
for i in $(seq 150); do kill -0 "$ping_pid" 2>/dev/null || break; sleep 0.1; done
expect "200 pings during 5 applies and a refused document: none lost" ' 200 received, 0% packet loss' < "$TEST_DIR/ping.out"

echo "An ENI moves: eni-web-b from host-b to host-a"
# The VM leaves host-b: its port, veth and netns go.
port=$(vsctl_on host-b --bare --columns=name find interface external_ids:vpc-eni-id=eni-web-b)
vsctl_on host-b del-port br-int "$port"
lab_in host-b ip link del "$port"
ip netns del "$(lab_ns web-b)"
# ... and comes back on host-a, same MAC and IP.
lab_vm host-a web-b eni-web-b 02:00:00:10:01:0b 10.10.1.11/24 10.10.1.1
jq '(.enis[] | select(.id == "eni-web-b") | .host) = "host-a"' "$TEST_DIR/v6.json" > "$TEST_DIR/v7.json"
put_all "v7: eni-web-b placed on host-a" "$TEST_DIR/v7.json"
for h in host-a host-b; do
    vpcd_expect_wait "$h: version 7, in sync" "$h" '.in_sync and .version == 7'
done
vpcd_status host-a .ports_bound | expect "host-a binds 3 ENIs" '^3$'
vpcd_status host-b .ports_bound | expect "host-b binds 1 ENI (app-b)" '^1$'
tx0=$(lab_in host-a cat /sys/class/net/ul0/statistics/tx_packets)
lab_ping web-a 10.10.1.11 | expect "web-a pings the moved web-b (now on the same host)" ' 0% packet loss'
tx1=$(lab_in host-a cat /sys/class/net/ul0/statistics/tx_packets)
[ $((tx1 - tx0)) -lt 3 ] && pass "... locally: nothing left host-a's underlay ($((tx1 - tx0)) packets)" \
    || fail "web-a -> moved web-b went out host-a's underlay ($((tx1 - tx0)) packets)"
lab_ping web-b 10.10.1.10 | expect "the moved web-b pings web-a" ' 0% packet loss'
lab_ping app-b 10.10.1.11 | expect "app-b (host-b) reaches the moved web-b through Geneve to host-a" ' 0% packet loss'
lab_ping client-a 10.10.1.11 | expect "client-a (host-a) pings the moved web-b" ' 0% packet loss'

echo "  PUT round trips (ms): ${PUT_MS[*]}"
echo "  vpcd apply_ms:        ${APPLY_MS[*]}"
for h in host-a host-b; do
    echo "  $h status: $(vpcd_status "$h" '"applies=\(.applies) rejected=\(.rejected) repairs=\(.repairs) p50=\(.apply_ms_p50) p99=\(.apply_ms_p99)"')"
done
if [ "$FAILS" -ne 0 ]; then lab_dump host-a; lab_dump host-b; fi
finish

#!/usr/bin/env bash
# Netns lab, real packets: three VMs behind one NAT gateway under
# connection churn (examples/edge.json plus eni-app2 10.30.2.11 and
# eni-app3 10.30.2.12 in subnet-private, written to the test directory);
# the lab of nat-churn-2vm.sh.
#
# Three VMs on the same 1,000 local ports toward the same server: 3,000
# inside tuples for 1,000 external ports of the range, so the NAT gateway
# moves connections around, and an external tuple is sometimes reused by
# another inside connection than the one the server holds in TIME_WAIT,
# with other TCP timestamps.  The server's PAWS check then answers the
# SYN with a bare ACK (counted: TcpExt PAWSTimewait on the server); the
# client answers with a RST that resets the TIME_WAIT socket, and its SYN
# retransmission connects -- if every conntrack stage (the host's
# security groups, the NAT zone) lets the ACK and the RST through and
# the SYN+ACK after them (ovs-ext patch 0003).  CHURN_N (60,000)
# connections in all, a third per VM; every one must succeed within 10 s
# (the SYN and its first three retransmissions, at 1, 3 and 7 s: one run in
# many had one connection of 60,000 that needed more than 5 s).
. "$(dirname "$0")/lab.sh"
CHURN_N=${CHURN_N:-60000}
PY=$(command -v python3) || skip "no python3"
CHURN=$TOP/tests/netns/churn.py
lab_require

EX=$TEST_DIR/edge-3vm.json
"$PY" - "$TOP/examples/edge.json" "$EX" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for i in (2, 3):
    r["enis"].append({"id": "eni-app%d" % i, "subnet": "subnet-private",
                      "mac": "02:00:00:30:02:%02x" % (9 + i),
                      "private_ip": "10.30.2.%d" % (9 + i),
                      "host": "host-b", "security_groups": ["sg-shop"]})
json.dump(r, open(sys.argv[2], "w"), indent=1)
PY

lab_host host-b 192.168.100.2
lab_host edge-1 192.168.100.254
lab_vm host-b app eni-app 02:00:00:30:02:0a 10.30.2.10/24 10.30.2.1
lab_vm host-b app2 eni-app2 02:00:00:30:02:0b 10.30.2.11/24 10.30.2.1
lab_vm host-b app3 eni-app3 02:00:00:30:02:0c 10.30.2.12/24 10.30.2.1
lab_node inet
lab_veth edge-1 up0 inet eth0
lab_in inet ip link set eth0 address 02:99:00:00:00:01
lab_in inet ip addr add 203.0.113.1/24 dev eth0
lab_in inet ip addr add 8.8.8.8/32 dev lo
vsctl_on edge-1 add-port br-int up0 \
    -- set interface up0 external_ids:vpc-edge-port=uplink
lab_warm
lab_apply "$EX"
for vm in app app2 app3; do
    lab_in $vm sysctl -qw net.ipv4.ip_local_port_range="40000 40999"
done

lab_bg inet "$PY" "$CHURN" server 8.8.8.8 8080
for _ in $(seq 40); do
    lab_in inet ss -Hltn "sport = :8080" | grep -q . && break; sleep 0.05
done

half=$((CHURN_N / 3))
echo "NAT gateway: $half connections from each of app, app2 and app3 -> 8.8.8.8:8080, at once"
start=$(date +%s)
lab_in app2 timeout 660 "$PY" "$CHURN" client 8.8.8.8 8080 "$half" 8 10 20 600 \
    > "$TEST_DIR/app2.out" &
p2=$!
lab_in app3 timeout 660 "$PY" "$CHURN" client 8.8.8.8 8080 "$half" 8 10 20 600 \
    > "$TEST_DIR/app3.out" &
p3=$!
out=$(lab_in app timeout 660 "$PY" "$CHURN" client 8.8.8.8 8080 "$half" 8 10 20 600)
rc=$?
wait $p2; rc2=$?
wait $p3; rc3=$?
out3=$(cat "$TEST_DIR/app3.out")
out2=$(cat "$TEST_DIR/app2.out")
echo "  app:  $out (exit $rc)"
echo "  app2: $out2 (exit $rc2)"
echo "  app3: $out3 (exit $rc3)"
echo "  $(($(date +%s) - start)) s wall"
[ $rc = 0 ] && grep -q "ok=$half " <<<"$out" \
    && pass "app: all $half connections succeeded" || fail "app: connections failed: $out"
[ $rc2 = 0 ] && grep -q "ok=$half " <<<"$out2" \
    && pass "app2: all $half connections succeeded" || fail "app2: connections failed: $out2"
[ $rc3 = 0 ] && grep -q "ok=$half " <<<"$out3" \
    && pass "app3: all $half connections succeeded" || fail "app3: connections failed: $out3"
ports=$(lab_in inet ss -Htn state time-wait "sport = :8080" | awk '{ print $4 }' | sort -u)
echo "  the server's TIME_WAIT peers: $(grep -c . <<<"$ports") external ports of 203.0.113.20"
# tcpext FIELD: a TcpExt counter of the server's namespace.
tcpext() {
    lab_in inet awk -v f="$1" '$1 == "TcpExt:" { if (!c) { for (i = 2; i <= NF; i++) if ($i == f) c = i }
                                                 else print $c }' /proc/net/netstat
}
paws=$(tcpext PAWSTimewait)
[ "${paws:-0}" -gt 0 ] \
    && pass "... the server answered $paws SYNs on TIME_WAIT sockets with an ACK (PAWS): the case this test is about happened, and every such connection recovered" \
    || fail "the server never rejected a SYN by PAWS (PAWSTimewait ${paws:-?}): this test did not test what it says"

if [ "$FAILS" -ne 0 ]; then
    for t in $(stage_table sg_out) $(stage_table sg_in); do
        echo "--- host-b table $t (security groups) flows with packets:"
        ofctl_on host-b dump-flows br-int "table=$t" | grep -v 'n_packets=0,' \
            | sed 's/^/   /'
    done
    echo "--- edge-1 edge_nat_in flows:"
    ofctl_on edge-1 dump-flows br-int table=$(stage_table edge_nat_in) | sed 's/^/   /'
    echo "--- edge-1 coverage:"
    appctl_on edge-1 coverage/show | grep -i conntrack | sed 's/^/   /'
fi
finish

#!/usr/bin/env bash
# Netns lab, real packets: two VMs behind one NAT gateway under connection
# churn (examples/edge.json plus a second ENI in subnet-private, eni-app2
# 10.30.2.11, written to the test directory).  host-b holds both VMs; the
# edge, "inet" and the server on 8.8.8.8:8080 are as in nat-churn.sh.
#
# Both VMs use the same narrow local port range (1,000 ports) toward the
# same server, so the NAT gateway cannot give every inside port its own
# number outside: the VM that comes second on a port is moved to another
# one.  That is fine as long as each inside tuple keeps its external port
# from one connection to the next (ovs-ext patch 0002): an external tuple
# is then never shared by the two VMs, whose TCP timestamp offsets
# differ.  CHURN_N (60,000) connections in all, half per VM, 8 at a time
# each; every one must succeed within 5 s.
. "$(dirname "$0")/lab.sh"
CHURN_N=${CHURN_N:-60000}
PY=$(command -v python3) || skip "no python3"
CHURN=$TOP/tests/netns/churn.py
lab_require

EX=$TEST_DIR/edge-2vm.json
"$PY" - "$TOP/examples/edge.json" "$EX" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["enis"].append({"id": "eni-app2", "subnet": "subnet-private",
                  "mac": "02:00:00:30:02:0b", "private_ip": "10.30.2.11",
                  "host": "host-b", "security_groups": ["sg-shop"]})
json.dump(r, open(sys.argv[2], "w"), indent=1)
PY

lab_host host-b 192.168.100.2
lab_host edge-1 192.168.100.254
lab_vm host-b app eni-app 02:00:00:30:02:0a 10.30.2.10/24 10.30.2.1
lab_vm host-b app2 eni-app2 02:00:00:30:02:0b 10.30.2.11/24 10.30.2.1
lab_node inet
lab_veth edge-1 up0 inet eth0
lab_in inet ip link set eth0 address 02:99:00:00:00:01
lab_in inet ip addr add 203.0.113.1/24 dev eth0
lab_in inet ip addr add 8.8.8.8/32 dev lo
vsctl_on edge-1 add-port br-int up0 \
    -- set interface up0 external_ids:vpc-edge-port=uplink
lab_warm
lab_apply "$EX"
for vm in app app2; do
    lab_in $vm sysctl -qw net.ipv4.ip_local_port_range="40000 40999"
done

lab_bg inet "$PY" "$CHURN" server 8.8.8.8 8080
for _ in $(seq 40); do
    lab_in inet ss -Hltn "sport = :8080" | grep -q . && break; sleep 0.05
done

half=$((CHURN_N / 2))
echo "NAT gateway: $half connections from each of app and app2 -> 8.8.8.8:8080, at once"
start=$(date +%s)
lab_in app2 timeout 660 "$PY" "$CHURN" client 8.8.8.8 8080 "$half" 8 5 20 600 \
    > "$TEST_DIR/app2.out" &
p2=$!
out=$(lab_in app timeout 660 "$PY" "$CHURN" client 8.8.8.8 8080 "$half" 8 5 20 600)
rc=$?
wait $p2; rc2=$?
out2=$(cat "$TEST_DIR/app2.out")
echo "  app:  $out (exit $rc)"
echo "  app2: $out2 (exit $rc2)"
echo "  $(($(date +%s) - start)) s wall"
[ $rc = 0 ] && grep -q "ok=$half " <<<"$out" \
    && pass "app: all $half connections succeeded" || fail "app: connections failed: $out"
[ $rc2 = 0 ] && grep -q "ok=$half " <<<"$out2" \
    && pass "app2: all $half connections succeeded" || fail "app2: connections failed: $out2"
# Linux picks even ports for connect(): the odd external ports are the
# connections the NAT gateway moved (the second VM on a port).
ports=$(lab_in inet ss -Htn state time-wait "sport = :8080" | awk '{ print $4 }' | sort -u)
n_odd=$(grep -cE '^203\.0\.113\.20:[0-9]*[13579]$' <<<"$ports")
n_ports=$(grep -c . <<<"$ports")
echo "  the server's TIME_WAIT peers: $n_ports external ports of 203.0.113.20, $n_odd of them odd (moved by the NAT)"
[ "$n_ports" -le 2000 ] \
    && pass "... at most 2,000 (2 VMs x 1,000 ports): each inside tuple kept one external port" \
    || fail "the server saw $n_ports external ports for 2,000 inside tuples: the NAT moved connections around"
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

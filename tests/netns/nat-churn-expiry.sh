#!/usr/bin/env bash
# Netns lab, real packets: the NAT gateway when a client reuses a tuple
# just after the NAT zone's entry for it expired (examples/edge.json,
# nat-shop; the lab of nat-churn.sh).  The edge's zone 2 gets a timeout
# policy with tcp_close=1 (closed connections expire after 1 s instead of
# 30 s) and the VM a range of 20,000 local ports, so that each port comes
# back after a few seconds: its previous connection has expired on the
# edge but is not swept yet (the sweeper's next pass may be 20 s away),
# while the server still holds it in TIME_WAIT (60 s).  The new
# connection must get the same external port again (ovs-ext patch 0002:
# an un-NAT entry expires with its connection); if it is moved, outside
# tuples are reused across inside connections with different TCP
# timestamp offsets, PAWS answers SYNs with ACKs and connections time
# out.  CHURN_N (40,000) connections, 16 at a time, each within 5 s.
. "$(dirname "$0")/lab.sh"
EX=$TOP/examples/edge.json
CHURN_N=${CHURN_N:-40000}
PY=$(command -v python3) || skip "no python3"
CHURN=$TOP/tests/netns/churn.py
lab_require

lab_host host-b 192.168.100.2
lab_host edge-1 192.168.100.254
lab_vm host-b app eni-app 02:00:00:30:02:0a 10.30.2.10/24 10.30.2.1
lab_node inet
lab_veth edge-1 up0 inet eth0
lab_in inet ip link set eth0 address 02:99:00:00:00:01
lab_in inet ip addr add 203.0.113.1/24 dev eth0
lab_in inet ip addr add 8.8.8.8/32 dev lo
vsctl_on edge-1 add-port br-int up0 \
    -- set interface up0 external_ids:vpc-edge-port=uplink
vsctl_on edge-1 -- --id=@dp create Datapath datapath_version=0 \
    -- set Open_vSwitch . datapaths:netdev=@dp
vsctl_on edge-1 add-zone-tp netdev zone=2 tcp_close=1
lab_warm
lab_apply "$EX"

# The VM: default TCP settings; 20,000 ports, each reused after ~5 s.
lab_in app sysctl -qw net.ipv4.ip_local_port_range="20000 39999"
lab_in app sysctl net.ipv4.tcp_timestamps net.ipv4.tcp_tw_reuse \
    net.ipv4.ip_local_port_range | sed 's/^/  app: /'

lab_bg inet "$PY" "$CHURN" server 8.8.8.8 8080
for _ in $(seq 40); do
    lab_in inet ss -Hltn "sport = :8080" | grep -q . && break; sleep 0.05
done

echo "NAT gateway: $CHURN_N connections app -> 8.8.8.8:8080 through nat-shop"
start=$(date +%s)
out=$(lab_in app timeout 660 "$PY" "$CHURN" client 8.8.8.8 8080 "$CHURN_N" 16 5 20 600)
rc=$?
echo "  client: $out (exit $rc, $(($(date +%s) - start)) s wall)"
[ $rc = 0 ] && grep -q "ok=$CHURN_N " <<<"$out" \
    && pass "all $CHURN_N connections through the NAT gateway succeeded (0 timeouts, 0 errors)" \
    || fail "connections through the NAT gateway failed: $out"

# The server saw the NAT gateway's address, on the client's own ports.
ext=$(lab_in inet ss -Htn state time-wait "sport = :8080" \
      | awk '{ print $4 }' | sort -u)
n_ext=$(grep -c . <<<"$ext")
n_other=$(grep -vcE '^203\.0\.113\.20:(2[0-9]|3[0-9])[0-9]{3}$' <<<"$ext")
[ "$n_ext" -gt 0 ] && [ "$n_other" = 0 ] \
    && pass "the server's $n_ext TIME_WAIT peers are 203.0.113.20 on the VM's ports 20000-39999" \
    || fail "the server's TIME_WAIT peers: $n_other of $n_ext outside 203.0.113.20:20000-39999 ($(head -3 <<<"$ext" | tr '\n' ' '))"

if [ "$FAILS" -ne 0 ]; then
    echo "--- edge-1 zone 2 conntrack entries by state:"
    appctl_on edge-1 dpctl/dump-conntrack zone=2 | grep -o 'state=[A-Z_0-9]*' \
        | sort | uniq -c | sed 's/^/   /'
    for t in $(stage_table sg_out) $(stage_table sg_in); do
        echo "--- host-b table $t (security groups) flows with packets:"
        ofctl_on host-b dump-flows br-int "table=$t" | grep -v 'n_packets=0,' \
            | sed 's/^/   /'
    done
    echo "--- edge-1 coverage:"
    appctl_on edge-1 coverage/show | grep -i conntrack | sed 's/^/   /'
fi
finish
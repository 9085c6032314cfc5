#!/usr/bin/env bash
# Netns lab, real packets: a host cut off from the control plane
# (docs/regiondb.md, "Faults").  examples/web-tier.json in a 3-member
# region database cluster; a relay in a control-plane netns serves it on
# TCP over a management network; two hosts whose vpcds reach the relay only
# through a management veth of their own (mg0), the VMs' traffic on the
# underlay.  A ping (client-a -> web-b) and a TCP stream (web-a ->
# app-b:8080) run across the two hosts while host-b's management link is
# down for several seconds and a rule is committed meanwhile: no ping is
# lost, the stream goes on unbroken, host-b's flows are never removed or
# re-added, its status says it is cut off and not in sync; once the link
# is back it resumes its session's monitor, applies the rule (a connection
# to app-b:9000 opens) and is in sync again.
#
# vpcd runs with --region-db-probe=1000: a link down sends no FIN or RST,
# so without an inactivity probe TCP keeps the dead session (the IDL's
# default probe on tcp: is 5 s, hence 5-10 s to notice) and vpcd would
# report itself connected and in sync while it is not.
. "$(dirname "$0")/lab.sh"
. "$TOP/tests/vpcd-lib.sh"
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

# The management network: netns "mgmt" with a bridge (the control plane's
# address, 192.168.200.254) and one veth per host (mg0, 192.168.200.N).
MG=$(lab_ns mgmt)
lab_netns "$MG"
ip -n "$MG" link add br0 type bridge
ip -n "$MG" addr add 192.168.200.254/24 dev br0
ip -n "$MG" link set br0 up
mgmt_link() {
    local host=$1 ip=$2 hns peer
    hns=$(lab_ns "$host")
    LAB_NPORT=$((LAB_NPORT + 1)); peer=m$LAB_NPORT
    ip link add mg0 netns "$hns" type veth peer name "$peer" netns "$MG"
    LAB_VETHS+=("$hns mg0")
    ip -n "$MG" link set "$peer" master br0 up
    ip -n "$hns" addr add "$ip/24" dev mg0
    ip -n "$hns" link set mg0 up
}
mgmt_link host-a 192.168.200.1
mgmt_link host-b 192.168.200.2

CL=$TEST_DIR/cl
trap 'regiondb_cluster_stop "$CL" 3; lab_cleanup; exit 130' INT TERM
regiondb_cluster_start "$CL" 3
MEMBERS=$REGION_MEMBERS
# The relay, in the control-plane netns (the members' unix sockets reach
# it through the file system); regiondb_cluster_stop stops it.
ip netns exec "$MG" ovsdb-server "relay:OVS_VPC_Region:$MEMBERS" \
    --remote=ptcp:6640:192.168.200.254 --remote="punix:$CL/relay-mg.sock" \
    --pidfile="$CL/relay-mg.pid" --unixctl="$CL/relay-mg.ctl" \
    --log-file="$CL/relay-mg.log" -vconsole:off --detach --no-chdir \
    2>>"$CL/stderr.log"
ovsdb-client --timeout=30 wait "unix:$CL/relay-mg.sock" OVS_VPC_Region connected \
    && pass "the relay serves the cluster on tcp:192.168.200.254:6640" \
    || fail "the relay does not come up"
RELAY=tcp:192.168.200.254:6640
"$VPCCTL" --region-db="$MEMBERS" load "$EX" | expect "the web tier loads (cfg 1)" 'cfg 1,'
for h in host-a host-b; do
    vpcd_start "$h" "$(lab_ns "$h")" --region-db="$RELAY" --region-db-probe=1000
done
for h in host-a host-b; do
    vpcd_expect_wait "$h follows the relay over its management link (cfg 1, in sync)" "$h" \
        ".in_sync and .region_db.applied_cfg == 1 and .region_db.remote == \"$RELAY\"" 15
done

# flows_kept WHAT HOST BEFORE: every flow of BEFORE (dump-flows) that is
# still on HOST, same match, actions and cookie, is older than it was then
# (its duration): none was deleted and re-added since, so no flush.  The
# flows that the change itself replaced (a rule added to a group renumbers
# its rules' cookies: docs/regiondb.md) are counted, not judged.
flows_kept() {
    ofctl_on "$2" dump-flows br-int | grep cookie= > "$TEST_DIR/after.flows"
    local out kept bad gone
    out=$(python3 - "$3" "$TEST_DIR/after.flows" <<'PY'
import re, sys
def load(f):
    d = {}
    for line in open(f):
        m = re.search(r'duration=([0-9.]+)s', line)
        key = re.sub(r' *(duration=[0-9.]+s|(n_packets|n_bytes|idle_age|hard_age)=[0-9]+),', '', line.strip())
        d[key] = float(m.group(1))
    return d
before, after = load(sys.argv[1]), load(sys.argv[2])
kept = [k for k in before if k in after]
bad = [k for k in kept if after[k] < before[k]]
print(len(kept), len(bad), len(before) - len(kept))
for k in bad[:5]:
    print("  " + k)
PY
)
    read -r kept bad gone <<<"$(head -1 <<<"$out")"
    if [ "${bad:-x}" = 0 ] && [ "${kept:-0}" -gt 0 ]; then
        pass "$1 (all $kept flows it kept kept their age; $gone replaced by the change)"
    else
        fail "$1 (kept, re-added, replaced: $out)"
    fi
}

echo "Traffic across the hosts while host-b is cut off"
lab_listen app-b 9000 "app-b on 9000"
out=$(lab_connect web-a 10.10.2.10 9000 "knock")
expect_not "before: web-a cannot reach app-b:9000" 'app-b on 9000' <<<"${out:-(no answer)}"
PING=$TEST_DIR/ping.out
lab_bg client-a ping -n -i 0.1 -W 1 10.10.1.11 > "$PING" 2>&1
PING_PID=$LAB_LAST_PID
# The stream: web-a writes a numbered line every 0.1 s to app-b:8080 over
# one TCP connection until $STOP exists; app-b keeps what it receives.
STOP=$TEST_DIR/stop-stream LAST=$TEST_DIR/stream.last RECV=$TEST_DIR/stream.recv
lab_bg app-b nc -l -p 8080 > "$RECV" 2>/dev/null
for _ in $(seq 40); do lab_in app-b ss -Hltn 'sport = :8080' | grep -q . && break; sleep 0.05; done
lab_bg web-a bash -c "i=0; while [ ! -f $STOP ]; do i=\$((i + 1)); echo \$i; echo \$i > $LAST; sleep 0.1; done \
    | nc -N 10.10.2.10 8080; echo \$? > $TEST_DIR/stream.rc"
STREAM_PID=$LAB_LAST_PID
lab_wait_file "$RECV" '^5$' 50 && pass "the TCP stream web-a -> app-b:8080 flows" \
    || fail "the TCP stream does not start"
B0=$(of_count host-b)
ofctl_on host-b dump-flows br-int | grep cookie= > "$TEST_DIR/before.flows"
SAMPLES=$TEST_DIR/host-b.samples
( while [ ! -f "$TEST_DIR/stop-sampler" ]; do of_count host-b >> "$SAMPLES"; sleep 0.1; done ) &
SAMPLER=$!

ip -n "$(lab_ns host-b)" link set mg0 down
vpcd_expect_wait "host-b notices it is cut off (inactivity probe): not connected, not in sync" host-b \
    '(.region_db.connected | not) and (.in_sync | not) and .region_db.remote == null and .region_db.disconnected_since != null' 15
echo "  (noticed after ${VPCD_WAITED_MS} ms, probe 1000 ms)"
jq '(.security_groups[] | select(.id == "sg-app") | .ingress) += [{"protocol": "tcp", "from_port": 9000, "to_port": 9000, "cidr": "10.10.0.0/16"}]' \
    "$EX" > "$TEST_DIR/v2.json"
"$VPCCTL" --region-db="$MEMBERS" load "$TEST_DIR/v2.json" \
    | expect "a rule is committed while host-b is cut off (cfg 2)" 'cfg 2,'
vpcd_expect_wait "host-a applies it (cfg 2)" host-a '.in_sync and .region_db.applied_cfg == 2' 10
vpcd_status host-b '"\(.region_db.applied_cfg) \(.in_sync) \(.region_db.connected)"' \
    | expect "host-b: still cfg 1, not in sync, not connected" '^1 false false$'
sleep 3      # The cut lasts a few seconds more; nothing is timed here.
vpcd_status host-b '.region_db.disconnected_ms >= 2000' \
    | expect "host-b's status counts how long it has been cut off" '^true$'
"$VPCCTL" --region-db="$MEMBERS" status \
    | expect "vpcctl status: host-b behind at 1/2" '^host-b +1/2 +behind$'
ip -n "$(lab_ns host-b)" link set mg0 up
vpcd_expect_wait "the link back: host-b reconnects and applies cfg 2, in sync" host-b \
    ".in_sync and .region_db.applied_cfg == 2 and .region_db.remote == \"$RELAY\"" 30
vpcd_status host-b '.region_db.resyncs | "\(.last) rows=\(.rows_last) of \(.replica_rows)"' \
    | expect "host-b's new session resumed with only what it missed" '^resumed rows=[1-9] of [1-9][0-9]+$'
touch "$TEST_DIR/stop-sampler"; wait "$SAMPLER"

touch "$STOP"
for _ in $(seq 50); do [ -f "$TEST_DIR/stream.rc" ] && break; sleep 0.1; done
kill -INT "$PING_PID"
for _ in $(seq 30); do grep -q 'packet loss' "$PING" && break; sleep 0.1; done
expect "no ping lost across the cut ($(grep -o '^[0-9]* packets transmitted' "$PING"))" \
    ' 0% packet loss' < "$PING"
expect "the TCP stream's connection closed cleanly (nc exit 0)" '^0$' < "$TEST_DIR/stream.rc"
n=$(cat "$LAST")
[ "$n" -ge 20 ] && [ "$(tail -1 "$RECV")" = "$n" ] && [ "$(wc -l < "$RECV")" = "$n" ] \
    && pass "app-b received all $n lines of the stream, in order" \
    || fail "stream: sent $n lines, received $(wc -l < "$RECV"), last $(tail -1 "$RECV")"
if grep -qv '^[0-9][0-9]*$' "$SAMPLES" || [ ! -s "$SAMPLES" ]; then
    fail "host-b's flow count could not be sampled"
else
    min=$(sort -n "$SAMPLES" | head -1)
    [ "$min" -ge "$B0" ] && pass "host-b's flow count never dropped below $B0 ($(wc -l < "$SAMPLES") samples)" \
        || fail "host-b's flow count dropped to $min (was $B0)"
fi
flows_kept "no flow of host-b was removed or re-added across the cut" host-b "$TEST_DIR/before.flows"

lab_connect web-a 10.10.2.10 9000 "knock" \
    | expect "after: web-a connects to app-b:9000, the rule made during the cut" '^app-b on 9000$'
"$VPCCTL" --region-db="$MEMBERS" status \
    | expect "vpcctl status: host-b in sync at 2/2" '^host-b +2/2 +in sync$'
echo "  host-b: $(vpcd_status host-b '.region_db | "sessions=\(.sessions) disconnects=\(.disconnects) resyncs=\(.resyncs)"')"
if [ "$FAILS" -ne 0 ]; then lab_dump host-a; lab_dump host-b; fi
regiondb_cluster_stop "$CL" 3
finish

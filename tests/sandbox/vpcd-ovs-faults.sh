#!/usr/bin/env bash
# Sandbox: vpcd under faults (issue 11).  ovs-vswitchd stopped with SIGSTOP
# (it accepts connections and never answers): vpcd's HTTP API, control
# socket and SIGTERM still answer, the timeout is counted and logged, and
# after SIGCONT it converges.  A unixctl client that goes away before its
# reply does not kill vpcd (SIGPIPE).  A flow of ours given a hard_timeout
# or idle_timeout by hand is repaired by the audit.  --http with a port out
# of range is refused.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vpcd-lib.sh"
SG_IN=$(stage_table sg_in)
EX=$TOP/examples/web-tier.json
T=1000                          # vpcd's --ovs-timeout, ms.

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web 1 eni-web-a
sandbox_vm host-a vm-client 2 eni-client-a
D=${OVS_DIR[host-a]}
VSWITCHD_PID=$(cat "$D/ovs-vswitchd.pid")
# Never leave the test's ovs-vswitchd stopped (it could not be stopped).
trap 'kill -CONT "$VSWITCHD_PID" 2>/dev/null; ovs_stop_all; exit 143' INT TERM

# alive: vpcd's process still runs (a dead one may linger as a zombie
# until it is reaped, and kill -0 succeeds on a zombie).
alive() {
    local state
    state=$(awk '/^State:/ { print $2 }' "/proc/$(vpcd_pid host-a)/status" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ]
}
# wait_gone PID SECONDS: waits for PID to exit (or be a zombie); fails
# after SECONDS.
wait_gone() {
    local i state
    for i in $(seq $(($2 * 10))); do
        state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
        [ -z "$state" ] || [ "$state" = Z ] && return 0
        sleep 0.1
    done
    return 1
}
# rss_kb: vpcd's resident memory.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$(vpcd_pid host-a)/status"; }

echo "--http port out of range"
out=$(timeout 10 "$VPCD" --host=host-a --state-dir=none \
      --http=127.0.0.1:93535 --unixctl="$TEST_DIR/bad-port.ctl" 2>&1); rc=$?
[ "$rc" = 1 ] && pass "--http=127.0.0.1:93535 is refused (exit 1)" \
    || fail "--http=127.0.0.1:93535: exit $rc (124: it started and ran)"
expect "... with an error that names the option and the range" \
    '--http=127\.0\.0\.1:93535: the port must be an integer from 1 to 65535' <<<"$out"
out=$(timeout 10 "$VPCD" --host=host-a --state-dir=none \
      --http=127.0.0.1:80x --unixctl="$TEST_DIR/bad-port.ctl" 2>&1); rc=$?
[ "$rc" = 1 ] && pass "--http=127.0.0.1:80x is refused" || fail "--http=127.0.0.1:80x: exit $rc"

# No --intents: a watched file would refuse the PUT below (409).
vpcd_start host-a "" --ovs-timeout=$T
vpcd_http host-a PUT /v1/intents "$EX" >/dev/null
vpcd_expect_wait "vpcd installs the web tier" host-a '.host == "host-a" and .in_sync and .version == 1'

echo "SIGPIPE: a unixctl client that disconnects before its reply"
grep '^SigIgn:' "/proc/$(vpcd_pid host-a)/status" | awk '{ print $2 }' \
    | while read -r mask; do
        (( (0x$mask >> 12) & 1 )) && pass "vpcd ignores SIGPIPE (SigIgn $mask)" \
            || fail "vpcd does not ignore SIGPIPE (SigIgn $mask)"
    done
python3 - "$D/vpcd.ctl" <<'PY'
import socket, sys, time
for i in range(5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(b'{"id": %d, "method": "vpcd/dump-flows", "params": []}' % i)
    s.close()                   # Before vpcd answers (it polls every 100 ms).
    time.sleep(0.3)
PY
sleep 0.5
alive && pass "vpcd survives 5 clients that hang up before the reply" \
    || fail "vpcd died when a unixctl client hung up (SIGPIPE?)"
vpcd_appctl host-a vpcd/status 2>&1 | jq -r .version 2>&1 \
    | expect "... and its control socket still answers" '^1$'
python3 - "${VPCD_PORT[host-a]}" <<'PY'
import socket, struct, sys, time
for i in range(5):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /v1/intents HTTP/1.1\r\nHost: vpcd\r\n\r\n" * 50)
    # Reset on close: vpcd's next write to it fails at once.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    time.sleep(0.2)
PY
sleep 0.5
alive && vpcd_status host-a .host | grep -q '^host-a$' \
    && pass "vpcd survives HTTP clients that hang up before the reply" \
    || fail "vpcd died when an HTTP client hung up"

echo "A timeout set on one of our flows by hand is repaired"
flow=$(ofctl_on host-a dump-flows br-int table=$SG_IN --no-stats | grep 'tp_dst=443' | head -1 | sed 's/^ *//')
repairs=$(vpcd_status host-a .repairs)
expect_status "the flow is replaced by the same one with a hard_timeout and an idle_timeout" 0 \
    ofctl_on host-a add-flow br-int "hard_timeout=600,idle_timeout=300,$flow"
vpcd_expect_wait "the audit repairs it (repairs grows)" host-a ".host == \"host-a\" and .repairs > $repairs"
ofctl_on host-a dump-flows br-int table=$SG_IN | grep 'tp_dst=443' \
    | expect_not "... and the flow has no timeout any more" 'hard_timeout|idle_timeout'
ofctl_on host-a add-flow br-int "idle_timeout=900,$flow"
vpcd_expect_wait "an idle_timeout alone is repaired too" host-a ".host == \"host-a\" and .repairs > $((repairs + 1))"
ofctl_on host-a dump-flows br-int table=$SG_IN | grep 'tp_dst=443' \
    | expect_not "... the flow has no idle_timeout" 'idle_timeout'

echo "ovs-vswitchd stopped (SIGSTOP): vpcd keeps answering"
kill -STOP "$VSWITCHD_PID"
ok=0
for i in 1 2 3 4 5; do
    s=$(curl -s -m 10 "http://127.0.0.1:${VPCD_PORT[host-a]}/v1/status") \
        && jq -e .version <<<"$s" >/dev/null && ok=$((ok + 1))
    sleep 0.3
done
[ "$ok" = 5 ] && pass "GET /v1/status answers 5 of 5 times (curl -m 10)" \
    || fail "GET /v1/status answered $ok of 5 times while ovs-vswitchd is stopped"
vpcd_expect_wait "status: not in sync" host-a '.host == "host-a" and .in_sync == false' 20
timeout 15 ovs-appctl -t "$D/vpcd.ctl" vpcd/status | jq -r .in_sync \
    | expect "the control socket answers too" '^false$'
vpcd_http host-a GET /metrics >/dev/null
expect "/metrics counts the timeouts" '^vpcd_ovs_timeouts_total [1-9]' <<<"$VPCD_BODY"
vpcd_status host-a .ovs_timeouts | expect "... and so does the status" '^[1-9]' 
grep -c 'timed out' "$D/vpcd.log" | expect "the log says what timed out" '^[1-9]'
jq '(.security_groups[] | select(.id == "sg-web") | .ingress) += [{"protocol": "tcp", "from_port": 8443, "to_port": 8443, "cidr": "0.0.0.0/0"}]' \
    "$EX" > "$TEST_DIR/v2.json"
vpcd_http host-a PUT /v1/intents "$TEST_DIR/v2.json" >/dev/null
[ "$VPCD_STATUS" = 202 ] && jq -e '.in_sync == false and .version == 2' <<<"$VPCD_BODY" >/dev/null \
    && pass "PUT: 202, version 2 kept, not installed yet (in $VPCD_MS ms)" \
    || fail "PUT while ovs-vswitchd is stopped: '$VPCD_STATUS' $VPCD_BODY"
alive && pass "vpcd is alive" || fail "vpcd died"

pid=$(vpcd_pid host-a)
kill -TERM "$pid"
wait_gone "$pid" 10 && pass "SIGTERM: vpcd exits while ovs-vswitchd is stopped" \
    || { fail "vpcd did not exit within 10 s of SIGTERM"; kill -9 "$pid"; }
grep -E 'Terminated: exiting|vpcd exiting' "$D/vpcd.log" | tail -1 \
    | expect "... cleanly (it logs its exit)" 'exiting'

vpcd_start host-a "" --ovs-timeout=$T
alive && pass "vpcd starts while ovs-vswitchd is stopped" || fail "vpcd did not start"
vpcd_status host-a .in_sync | expect "... not in sync" '^false$'
vpcd_http host-a GET /v1/intents >/dev/null
[ "$VPCD_BODY" = "$(cat "$TEST_DIR/v2.json")" ] \
    && pass "... holding the document PUT while ovs-vswitchd was stopped" \
    || fail "GET /v1/intents after the restart is not the last PUT"

echo "ovs-vswitchd continued (SIGCONT): vpcd converges"
kill -CONT "$VSWITCHD_PID"
vpcd_expect_wait "in sync (within the backoff)" host-a '.host == "host-a" and .in_sync' 30
ofctl_on host-a dump-flows br-int table=$SG_IN | expect "... and its new flow is installed" 'tp_dst=8443'
[ "$(of_count host-a)" = "$(vpcd_status host-a .flows)" ] && pass "... with all its flows" \
    || fail "br-int holds $(of_count host-a) flows, status says $(vpcd_status host-a .flows)"
[ "$(rss_kb)" -lt 102400 ] && pass "vpcd's RSS stays small ($(rss_kb) kB)" \
    || fail "vpcd's RSS is $(rss_kb) kB"
finish

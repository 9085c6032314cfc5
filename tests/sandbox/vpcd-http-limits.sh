#!/usr/bin/env bash
# Sandbox: vpcd's HTTP API against hostile clients on 127.0.0.1, with its
# default limits (docs/vpcd.md, "Limits"): a header line that never ends,
# uploads above the body limit (plain and chunked) left open, more stalled
# connections than the cap, an idle connection, a body with a NUL byte, and
# connections beyond the file-descriptor limit (EMFILE); and documents that
# are not what they seem (a NUL byte, a key given twice).  Every client is
# bounded in number, bytes and time (tests/hostile-http.py); vpcd's memory
# stays bounded and it keeps answering.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vpcd-lib.sh"
EX=$TOP/examples/web-tier.json
HOSTILE=$TOP/tests/hostile-http.py
RSS_MAX_KB=102400               # A generous bound: vpcd idles at ~10 MB.

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web 1 eni-web-a
D=${OVS_DIR[host-a]}
# No --intents: a watched file would refuse the PUTs below (409).
vpcd_start host-a ""
vpcd_http host-a PUT /v1/intents "$EX" >/dev/null
vpcd_expect_wait "vpcd is in sync" host-a '.host == "host-a" and .in_sync'
PID=$(vpcd_pid host-a)
PORT=${VPCD_PORT[host-a]}

# hostile MODE ARGS...: runs a hostile client; its "key value" lines become
# H_key variables.
hostile() {
    local k v
    while read -r k v; do
        printf -v "H_$k" '%s' "$v"
    done < <(timeout 120 python3 "$HOSTILE" "$1" "$PORT" "$PID" "${@:2}")
}
# answering WHAT: vpcd is alive and GET /v1/status answers.
answering() {
    local state
    state=$(awk '/^State:/ { print $2 }' "/proc/$PID/status" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ] \
        && vpcd_status host-a .host | grep -q '^host-a$' \
        && pass "$1" || fail "$1"
}
# rss_ok WHAT KB: vpcd's resident memory stays under the bound.
rss_ok() {
    [ -n "$2" ] && [ "$2" -lt "$RSS_MAX_KB" ] && pass "$1 (VmRSS $2 kB)" \
        || fail "$1 (VmRSS '$2' kB, bound $RSS_MAX_KB)"
}

echo "A header line that never ends (up to 64 MiB)"
H_sent_mb= H_answer= H_rss_kb=
hostile header 64
[ -n "$H_sent_mb" ] && [ "$H_sent_mb" -lt 32 ] \
    && pass "vpcd stops reading it ($H_sent_mb MiB sent, answer $H_answer)" \
    || fail "vpcd read '$H_sent_mb' MiB of one header line"
rss_ok "... and its memory stays bounded" "$H_rss_kb"
answering "... and it still answers"

echo "Uploads above the body limit (4 of 48 MiB, left open)"
H_max_sent_mb= H_codes= H_rss_kb=
hostile body 4 48
[ -n "$H_max_sent_mb" ] && [ "$H_max_sent_mb" -lt 40 ] \
    && pass "vpcd cuts every upload off (at most $H_max_sent_mb MiB sent)" \
    || fail "vpcd read '$H_max_sent_mb' MiB of an upload"
expect "... and answers 413 to the one with a Content-Length" '^413,' <<<"$H_codes"
rss_ok "... and its memory stays bounded with the 4 connections open" "$H_rss_kb"
answering "... and it still answers"

echo "Stalled connections"
H_accepted= H_rss_kb= H_status=
hostile stalled 8
expect "8 stalled connections (under the cap): another client is answered" \
    "'HTTP/1.1 200 OK'" <<<"$H_status"
H_accepted= H_rss_kb= H_status=
hostile stalled 40
[ -n "$H_accepted" ] && [ "$H_accepted" -le 16 ] \
    && pass "40 stalled connections: vpcd accepts at most 16 ($H_accepted)" \
    || fail "40 stalled connections: vpcd accepted '$H_accepted'"
rss_ok "... and its memory stays bounded" "$H_rss_kb"
grep -q 'connections open (the limit)' "$D/vpcd.log" \
    && pass "... and logs that it reached the limit" || fail "no log of the connection limit"
answering "... and answers again once they are gone"
H_closed_after_s=
hostile idle 30
[ -n "$H_closed_after_s" ] && [ "$H_closed_after_s" != never ] \
    && pass "an idle connection is closed by vpcd (after $H_closed_after_s s; the timeout is 10 s)" \
    || fail "an idle connection stayed open 30 s"

echo "A body with a NUL byte"
{ head -c 200 "$EX"; printf '\0'; tail -c +201 "$EX"; } > "$TEST_DIR/nul.json"
vpcd_http host-a POST /v1/validate "$TEST_DIR/nul.json" >/dev/null
[ "$VPCD_STATUS" = 400 ] && pass "POST /v1/validate: 400" \
    || fail "POST /v1/validate with a NUL: $VPCD_STATUS"
jq -r .error <<<"$VPCD_BODY" | expect "... the error says where the NUL is" \
    'contains a NUL byte \(at offset 200 of'
# A valid new version, then a NUL: cut at the NUL, it would be applied.
{ jq '.vpcs[0].cidr_blocks += ["10.11.0.0/16"]' "$EX"; printf '\0 and then anything'; } \
    > "$TEST_DIR/nul2.json"
version=$(vpcd_status host-a .version)
vpcd_http host-a PUT /v1/intents "$TEST_DIR/nul2.json" >/dev/null
[ "$VPCD_STATUS" = 400 ] && pass "PUT of a valid document followed by a NUL: 400" \
    || fail "PUT of a valid document followed by a NUL: $VPCD_STATUS"
vpcd_status host-a .version | expect "... and nothing changed (version $version)" "^$version\$"

echo "A document with a key given twice"
# The second top-level security_groups would open every port.
{ head -c -2 "$EX"; printf ',\n  "security_groups": [{"id": "sg-web", "vpc": "vpc-web", "ingress": [{"protocol": "-1", "cidr": "0.0.0.0/0"}], "egress": []}, {"id": "sg-app", "vpc": "vpc-web", "ingress": [], "egress": []}, {"id": "sg-client", "vpc": "vpc-web", "ingress": [], "egress": []}]\n}\n'; } \
    > "$TEST_DIR/dup.json"
vpcd_http host-a PUT /v1/intents "$TEST_DIR/dup.json" >/dev/null
[ "$VPCD_STATUS" = 400 ] && pass "PUT: 400" || fail "PUT of a document with a duplicate key: $VPCD_STATUS"
jq -r '.errors[0].message' <<<"$VPCD_BODY" | expect "... the error names the path, the key and the rule" \
    '^\$\.security_groups: "security_groups": key given more than once in this object'
vpcd_status host-a .version | expect "... and nothing changed (version $version)" "^$version\$"

echo "Out of file descriptors (EMFILE)"
nfd=$(ls "/proc/$PID/fd" | wc -l)
prlimit --pid "$PID" --nofile=$((nfd + 4)):
H_cpu_percent= H_rss_kb=
hostile flood 12 3
prlimit --pid "$PID" --nofile=1024:
[ -n "$H_cpu_percent" ] && [ "$H_cpu_percent" -lt 30 ] \
    && pass "12 connections with 4 descriptors left: vpcd does not spin ($H_cpu_percent% CPU)" \
    || fail "at the descriptor limit vpcd uses '$H_cpu_percent'% CPU"
grep -q 'accept failed (Too many open files)' "$D/vpcd.log" \
    && pass "... it logs the failed accept and pauses" || fail "no log of the failed accept"
sleep 1.5                       # One accept pause.
answering "... and answers again once descriptors are back"
vpcd_expect_wait "... and is in sync" host-a '.host == "host-a" and .in_sync'
finish

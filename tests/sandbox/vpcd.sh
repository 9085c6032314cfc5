#!/usr/bin/env bash
# Sandbox: vpcd, the host agent, beside a real ovs-vswitchd (dummy datapath)
# for host-a of the web tier: install from the watched file, the HTTP API
# (PUT, validate, status, metrics), refusal of invalid documents (HTTP and
# file), self-healing (flows deleted behind its back, ovs-vswitchd killed
# and restarted, the mapping cache flushed), a vpcd restart without churn
# (persisted state), SIGHUP and its control socket, and a PUT while
# ovs-vswitchd is down (202, installed when it is back).  With --intents
# the file is the only source: a PUT is refused (409), so that nothing a
# PUT installs is undone by the next change of the file or a SIGHUP.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vpcd-lib.sh"
SG_IN=$(stage_table sg_in)
EX=$TOP/examples/web-tier.json
F=$TEST_DIR/intents.json       # the watched file

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web 1 eni-web-a
sandbox_vm host-a vm-client 2 eni-client-a
D=${OVS_DIR[host-a]}

# sorted_flows: br-int's flows without counters (what vpcd controls).
sorted_flows() { ofctl_on host-a dump-flows br-int --no-stats | grep cookie= | sort; }
# write_file SRC: replace the watched file atomically (the audit may stat
# it at any time).
write_file() { cp "$1" "$F.tmp" && mv "$F.tmp" "$F"; }
# flows_match: br-int holds exactly as many flows as vpcd wants.
flows_match() { [ "$(of_count host-a)" = "$(vpcd_status host-a .flows)" ]; }
# wait_for CMD... : poll CMD every 20 ms for up to 5 s; sets WAITED_MS.
wait_for() {
    local t0 i
    t0=$(date +%s%N)
    for i in $(seq 500); do      # Up to ~10 s: a bound, not a target.
        "$@" && break
        sleep 0.02
    done
    WAITED_MS=$((($(date +%s%N) - t0) / 1000000))
    "$@"
}

echo "Start from the watched file"
cp "$EX" "$F"
vpcd_start host-a "" --intents="$F"
vpcd_expect_wait "vpcd installs the intents file (in_sync, version 1)" host-a '.in_sync and .version == 1'
# source_is ORIGIN FILE: /v1/status says the document in force came from
# ORIGIN and is FILE's text (its SHA-256), accepted at a time.
source_is() {
    local sum
    sum=$(sha256sum < "$2" | cut -d' ' -f1)
    vpcd_status host-a ".source.origin == \"$1\" and .source.sha256 == \"$sum\"
                        and (.source.accepted_at | test(\"^20[0-9-]+T[0-9:.]+Z\$\"))" \
        | grep -qx true
}
source_is "file:$F" "$F" && pass "status: source file:$F, the file's SHA-256" \
    || fail "status: source $(vpcd_status host-a | jq -c .source), not file:$F with the file's SHA-256"
nflows=$(vpcd_status host-a .flows)
[ "$nflows" -gt 20 ] && [ "$(of_count host-a)" = "$nflows" ] \
    && pass "br-int holds the $nflows flows that status reports" \
    || fail "br-int holds $(of_count host-a) flows, status says $nflows"
vpcd_status host-a .ports_bound | expect "both VM ports are bound" '^2$'
vpcd_status host-a | expect "status has the apply latency quantiles" '"apply_ms_p99": [0-9.]+'
grep -E "applied version 1 from file: $nflows flows \\($nflows added" "$D/vpcd.log" \
    | expect "the log reports the first install" 'applied version 1'
if [ "$VPC_MAPPING" = action ]; then
    nentries=$(vpcd_status host-a .cache_entries)
    appctl_on host-a vpcmap/stats | expect "the mapping cache holds the $nentries entries" "entries=$nentries( |\$)"
fi

echo "HTTP API: the watched file is the only source"
before=$(sorted_flows)
jq '.vpcs[0].cidr_blocks += ["10.11.0.0/16"]' "$EX" > "$TEST_DIR/put.json"
vpcd_http host-a PUT /v1/intents "$TEST_DIR/put.json" >/dev/null
[ "$VPCD_STATUS" = 409 ] && pass "PUT of a valid document while a file is watched: 409" \
    || fail "PUT while a file is watched: $VPCD_STATUS $VPCD_BODY"
jq -r .error <<<"$VPCD_BODY" \
    | expect "... the error names the file and what to do" "vpcd watches $F \\(--intents\\).*edit it"
vpcd_status host-a '.version, .rejected, .in_sync' | tr '\n' ' ' \
    | expect "... version (1), rejected (0) and in_sync unchanged" '^1 0 true $'
[ "$(sorted_flows)" = "$before" ] && pass "... and the flows too" \
    || fail "flows changed after a refused PUT"
source_is "file:$F" "$EX" && pass "... and the source: still the file, same SHA-256" \
    || fail "after a refused PUT, source $(vpcd_status host-a | jq -c .source)"
sha_v1=$(vpcd_status host-a .source.sha256)
sed 's/"10.10.1.0\/24"/"10.10.1.0\/33"/' "$EX" > "$TEST_DIR/bad.json"

vpcd_http host-a POST /v1/validate "$EX" >/dev/null
[ "$VPCD_STATUS" = 200 ] && jq -e '.valid == true and .enis == 4' <<<"$VPCD_BODY" >/dev/null \
    && pass "POST /v1/validate of a good document: 200, valid, 4 ENIs" \
    || fail "POST /v1/validate of a good document: $VPCD_STATUS $VPCD_BODY"
vpcd_http host-a POST /v1/validate "$TEST_DIR/bad.json" >/dev/null
[ "$VPCD_STATUS" = 400 ] && jq -e '.valid == false' <<<"$VPCD_BODY" >/dev/null \
    && pass "POST /v1/validate of a bad document: 400, not valid" \
    || fail "POST /v1/validate of a bad document: $VPCD_STATUS $VPCD_BODY"
vpcd_status host-a .rejected | expect "validate does not count as a rejected apply" '^0$'
vpcd_http host-a GET /v1/nothing >/dev/null
[ "$VPCD_STATUS" = 404 ] && pass "unknown resource: 404" || fail "unknown resource: $VPCD_STATUS"

echo "The watched file"
write_file "$TEST_DIR/bad.json"
vpcd_expect_wait "an invalid file is rejected (rejected count grows)" host-a '.rejected == 1' 3
vpcd_status host-a .last_error \
    | expect "last_error says what was rejected" 'rejected a document from file.*subnets\[0\]\.cidr'
vpcd_status host-a '.version, .in_sync' | tr '\n' ' ' | expect "still version 1, in sync" '^1 true $'
[ "$(sorted_flows)" = "$before" ] && pass "flows unchanged after the invalid file" \
    || fail "flows changed after an invalid file"
jq '(.security_groups[] | select(.id == "sg-web") | .ingress) += [{"protocol": "tcp", "from_port": 8443, "to_port": 8443, "cidr": "0.0.0.0/0"}]' \
    "$EX" > "$TEST_DIR/v2.json"
write_file "$TEST_DIR/v2.json"
t0=$(date +%s%N)
wait_for eval 'ofctl_on host-a dump-flows br-int table=$SG_IN | grep -q "tp_dst=8443"'
ms=$((($(date +%s%N) - t0) / 1000000))
ofctl_on host-a dump-flows br-int table=$SG_IN \
    | expect "a valid change of the file: the new sg_in flow appears (after $ms ms)" 'tp_dst=8443'
vpcd_expect_wait "... as version 2, in sync" host-a '.in_sync and .version == 2'
source_is "file:$F" "$TEST_DIR/v2.json" && [ "$(vpcd_status host-a .source.sha256)" != "$sha_v1" ] \
    && pass "... the source is the file again, with the new text's SHA-256 (not version 1's)" \
    || fail "after the file changed, source $(vpcd_status host-a | jq -c .source)"
flows_match && pass "br-int holds the flows status reports" \
    || fail "br-int holds $(of_count host-a) flows, status says $(vpcd_status host-a .flows)"

echo "Self-healing"
repairs=$(vpcd_status host-a .repairs)
n_sg_in=$(ofctl_on host-a dump-flows br-int table=$SG_IN | grep -c cookie=)
ofctl_on host-a del-flows br-int table=$SG_IN
t0=$(date +%s%N)
wait_for eval '[ "$(ofctl_on host-a dump-flows br-int table=$SG_IN | grep -c cookie=)" = "$n_sg_in" ]'
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$(ofctl_on host-a dump-flows br-int table=$SG_IN | grep -c cookie=)" = "$n_sg_in" ] \
    && pass "flows of sg_in deleted behind vpcd's back: the $n_sg_in are back (after $ms ms)" \
    || fail "sg_in not restored ($ms ms)"
vpcd_expect_wait "... and status counts the repair" host-a ".repairs > $repairs"
grep 'audit: switch differed' "$D/vpcd.log" | expect "... and the log says so" "restored $n_sg_in flows"
ofctl_on host-a add-flow br-int 'table=5,priority=7,actions=drop'
wait_for eval '! ofctl_on host-a dump-flows br-int table=5 | grep -q priority=7'
expect_not "a stray flow is removed" 'priority=7' \
    ofctl_on host-a dump-flows br-int table=5

v2flows=$(sorted_flows)
ovs_restart_vswitchd host-a
# What sandbox_host set at run time only (not in OVSDB).
appctl_on host-a netdev-dummy/ip4addr br-phy 192.168.100.1/24 >/dev/null
appctl_on host-a ovs/route/add 192.168.100.0/24 br-phy >/dev/null
for i in 1 2 3 4 254; do
    appctl_on host-a tnl/arp/set br-phy 192.168.100.$i 02:ee:00:00:00:01 >/dev/null
done
wait_for eval '[ "$(sorted_flows)" = "$v2flows" ]'
ms=$((($(date +%s%N) - VSWITCHD_STARTED_NS) / 1000000))
echo "  restored in $ms ms (ovs-vswitchd kill -9 and restart)"
[ "$(sorted_flows)" = "$v2flows" ] \
    && pass "ovs-vswitchd killed and restarted: every flow back (in $ms ms)" \
    || fail "flows not restored after the ovs-vswitchd restart ($ms ms)"
ofctl_on host-a add-flow br-phy action=normal
vpcd_expect_wait "... and vpcd is in sync again" host-a '.in_sync and .version == 2'
if [ "$VPC_MAPPING" = action ]; then
    nentries=$(vpcd_status host-a .cache_entries)
    wait_for eval 'appctl_on host-a vpcmap/stats | grep -Eq "entries=$nentries( |\$)"'
    appctl_on host-a vpcmap/stats \
        | expect "... and the mapping cache is reloaded ($nentries entries, $WAITED_MS ms)" "entries=$nentries( |\$)"
fi

echo "vpcd restart: no churn"
sleep 1.2
dur_before=$(ofctl_on host-a dump-flows br-int | grep -o 'duration=[0-9.]*' | cut -d= -f2 | sort -n | head -1)
gen_before=$(appctl_on host-a vpcmap/stats 2>/dev/null | grep -o 'generation=[0-9]*')
vpcd_kill host-a KILL
mv "$D/vpcd.log" "$D/vpcd.log.1"
vpcd_start host-a "" --intents=   # no file (the unit's empty VPC_INTENTS)
vpcd_expect_wait "vpcd killed and started again without --intents: in sync, still version 2" host-a '.in_sync and .version == 2'
grep 'applied version' "$D/vpcd.log" \
    | expect "it installed the persisted state and changed no flow" "applied version 2 from persisted state: [0-9]+ flows \\(0 added, 0 modified, 0 deleted\\)"
vpcd_http host-a GET /v1/intents >/dev/null
[ "$VPCD_BODY" = "$(cat "$TEST_DIR/v2.json")" ] && pass "the persisted state is the last valid document (the file's version 2)" \
    || fail "GET /v1/intents after restart is not the last valid document"
source_is state "$TEST_DIR/v2.json" && pass "status: source state, the same SHA-256 as the file's version 2" \
    || fail "after a restart without --intents, source $(vpcd_status host-a | jq -c .source)"
sleep 0.6
dur_after=$(ofctl_on host-a dump-flows br-int | grep -o 'duration=[0-9.]*' | cut -d= -f2 | sort -n | head -1)
awk -v a="$dur_after" -v b="$dur_before" 'BEGIN { exit !(a > b) }' \
    && pass "no flow was re-added: the youngest flow's age grew ($dur_before s -> $dur_after s)" \
    || fail "some flow was re-added by the restart: youngest flow $dur_before s -> $dur_after s"
[ "$(sorted_flows)" = "$v2flows" ] && pass "flows identical across the vpcd restart" \
    || fail "flows changed across the vpcd restart"

echo "HTTP API (no --intents): invalid documents change nothing"
before=$(sorted_flows)
vpcd_http host-a PUT /v1/intents "$TEST_DIR/bad.json" >/dev/null
[ "$VPCD_STATUS" = 400 ] && pass "PUT of an invalid document: 400" \
    || fail "PUT of an invalid document: $VPCD_STATUS"
jq -r '.valid, .errors[0].message' <<<"$VPCD_BODY" \
    | expect "the error names the JSON path and the value" '^\$\.subnets\[0\]\.cidr: "10\.10\.1\.0/33"'
jq -e '.errors[0] | .path == "$.subnets[0].cidr" and .value == "10.10.1.0/33"
        and (.rule | test("prefix")) and (keys == ["message", "path", "rule", "value"])' \
    <<<"$VPCD_BODY" >/dev/null \
    && pass "... as an object: path, value (the JSON value) and rule apart, and the message" \
    || fail "the error is not a {path, value, rule, message} object: $(jq -c '.errors[0]' <<<"$VPCD_BODY")"
[ "$(sorted_flows)" = "$before" ] && pass "flows unchanged after the refused PUT" \
    || fail "flows changed after a refused PUT"
vpcd_status host-a '.version, .rejected' | tr '\n' ' ' \
    | expect "version unchanged (2), rejected counted (1)" '^2 1 $'
vpcd_http host-a GET /v1/intents >/dev/null
[ "$VPCD_STATUS" = 200 ] && [ "$VPCD_BODY" = "$(cat "$TEST_DIR/v2.json")" ] \
    && pass "GET /v1/intents still returns the installed document" \
    || fail "GET /v1/intents: $VPCD_STATUS, not the installed document"
echo '{"vpcs": [' > "$TEST_DIR/garbage.json"
vpcd_http host-a PUT /v1/intents "$TEST_DIR/garbage.json" >/dev/null
[ "$VPCD_STATUS" = 400 ] && jq -e '.valid == false and (.errors | length) > 0' <<<"$VPCD_BODY" >/dev/null \
    && pass "PUT of malformed JSON: 400 with errors" \
    || fail "PUT of malformed JSON: $VPCD_STATUS $VPCD_BODY"
if [ "$VPC_MAPPING" = action ]; then
    gen_after=$(appctl_on host-a vpcmap/stats | grep -o 'generation=[0-9]*')
    echo "  mapping cache $gen_before before the vpcd restart, $gen_after after"
fi

echo "SIGHUP, control socket, metrics"
applies=$(vpcd_status host-a .applies)
vpcd_kill host-a HUP
vpcd_expect_wait "SIGHUP reloads (applies grows)" host-a ".applies > $applies and .in_sync"
grep 'SIGHUP: reloading' "$D/vpcd.log" | expect "... the persisted state (no --intents)" 'state/vpcd\.state'
vpcd_appctl host-a vpcd/status | jq -r .version | expect "vpcd/status over the control socket" '^2$'
vpcd_appctl host-a vpcd/reload | expect "vpcd/reload" '^version 2, in sync'
n=$(vpcd_appctl host-a vpcd/dump-flows | grep -c .)
[ "$n" = "$(vpcd_status host-a .flows)" ] && pass "vpcd/dump-flows prints the $n desired flows" \
    || fail "vpcd/dump-flows prints $n lines, status says $(vpcd_status host-a .flows) flows"
vpcd_http host-a GET /metrics >/dev/null
expect "/metrics: vpcd_applies_total" '^vpcd_applies_total [1-9]' <<<"$VPCD_BODY"
expect "/metrics: vpcd_stage_drops_total of sg_in" '^vpcd_stage_drops_total\{stage="sg_in"\} [0-9]+$' <<<"$VPCD_BODY"
expect "/metrics: vpcd_in_sync 1" '^vpcd_in_sync 1$' <<<"$VPCD_BODY"
version=$(sed -n 's/^#define VPC_VERSION "\(.*\)"$/\1/p' "$TOP/translator/version.h")
expect "/metrics: vpcd_build_info{version=\"$version\",ovs_version=...} 1" \
    "^vpcd_build_info\\{version=\"$version\",ovs_version=\"[^\"]+\"\\} 1\$" <<<"$VPCD_BODY"
expect "/metrics: the apply latency in seconds" '^vpcd_apply_latency_seconds_count [1-9]' <<<"$VPCD_BODY"
vpcd_http host-a GET /healthz >/dev/null
[ "$VPCD_STATUS" = 200 ] && jq -e '.status == "ok"' <<<"$VPCD_BODY" >/dev/null \
    && pass "GET /healthz: 200 {\"status\": \"ok\"}" \
    || fail "GET /healthz: $VPCD_STATUS $VPCD_BODY"
# allow_of METHOD PATH: the Allow header of a request vpcd refuses (405).
allow_of() {
    vpcd_nsexec host-a curl -s -m 5 -o /dev/null -D - -X "$1" \
        "http://127.0.0.1:${VPCD_PORT[host-a]}$2" | tr -d '\r' \
        | awk 'tolower($1) == "allow:" { $1 = ""; print substr($0, 2) }'
}
allow_of DELETE /v1/intents | expect "405 on /v1/intents: Allow: GET, PUT" '^GET, PUT$'
allow_of GET /v1/validate | expect "405 on /v1/validate: Allow: POST" '^POST$'
allow_of PUT /metrics | expect "405 on /metrics: Allow: GET" '^GET$'
allow_of POST /healthz | expect "405 on /healthz: Allow: GET" '^GET$'

if [ "$VPC_MAPPING" = action ]; then
    echo "Mapping cache flushed behind vpcd's back"
    nentries=$(vpcd_status host-a .cache_entries)
    repairs=$(vpcd_status host-a .repairs)
    appctl_on host-a vpcmap/flush >/dev/null
    appctl_on host-a vpcmap/stats | expect "the cache is empty after vpcmap/flush" 'entries=0( |$)'
    t0=$(date +%s%N)
    wait_for eval 'appctl_on host-a vpcmap/stats | grep -Eq "entries=$nentries( |\$)"'
    ms=$((($(date +%s%N) - t0) / 1000000))
    appctl_on host-a vpcmap/stats | expect "the cache is reloaded ($nentries entries, $ms ms)" "entries=$nentries( |\$)"
    vpcd_expect_wait "... and status counts the repair" host-a ".repairs > $repairs and .in_sync"
fi

echo "PUT while ovs-vswitchd is down: accepted, installed when it is back"
ovs_kill_vswitchd host-a
jq '(.security_groups[] | select(.id == "sg-web") | .ingress) += [{"protocol": "udp", "from_port": 5353, "to_port": 5353, "cidr": "10.10.0.0/16"}]' \
    "$TEST_DIR/v2.json" > "$TEST_DIR/v3.json"
vpcd_http host-a PUT /v1/intents "$TEST_DIR/v3.json" >/dev/null
[ "$VPCD_STATUS" = 202 ] && jq -e '.in_sync == false and .version == 3 and (.error | length) > 0' <<<"$VPCD_BODY" >/dev/null \
    && pass "PUT with ovs-vswitchd down: 202, version 3, not in sync" \
    || fail "PUT with ovs-vswitchd down: $VPCD_STATUS $VPCD_BODY"
vpcd_status host-a .in_sync | expect "status: not in sync" '^false$'
ovs_start_vswitchd host-a
vpcd_expect_wait "ovs-vswitchd back: the accepted version is installed" host-a '.in_sync and .version == 3'
wait_for eval 'ofctl_on host-a dump-flows br-int table=$SG_IN | grep -q "tp_dst=5353"'
ofctl_on host-a dump-flows br-int table=$SG_IN | expect "... with its new flow" 'udp.*tp_dst=5353'
[ "$(of_count host-a)" = "$(vpcd_status host-a .flows)" ] && pass "... and all its flows" \
    || fail "br-int holds $(of_count host-a) flows, status says $(vpcd_status host-a .flows)"
source_is http "$TEST_DIR/v3.json" && pass "status: source http, the PUT body's SHA-256" \
    || fail "after a PUT, source $(vpcd_status host-a | jq -c .source)"
at=$(vpcd_status host-a .source.accepted_at)
applies=$(vpcd_status host-a .applies)
vpcd_kill host-a HUP
vpcd_expect_wait "SIGHUP reloads the persisted state (the PUT's document)" host-a ".applies > $applies and .in_sync and .version == 3"
source_is http "$TEST_DIR/v3.json" && [ "$(vpcd_status host-a .source.accepted_at)" = "$at" ] \
    && pass "... the same document: still source http, accepted at the same time" \
    || fail "after SIGHUP, source $(vpcd_status host-a | jq -c .source) (was accepted at $at)"

echo "Which input wins: a restart with --intents after a PUT"
vpcd_kill host-a TERM
mv "$D/vpcd.log" "$D/vpcd.log.2"
cp "$TEST_DIR/v2.json" "$F"
vpcd_start host-a "" --intents="$F"
vpcd_expect_wait "the watched file wins over the persisted PUT: version 4, in sync" host-a '.in_sync and .version == 4'
source_is "file:$F" "$TEST_DIR/v2.json" && pass "... status: source file:$F, the file's SHA-256" \
    || fail "after a restart with --intents, source $(vpcd_status host-a | jq -c .source)"
ofctl_on host-a dump-flows br-int table=$SG_IN | grep -q "tp_dst=5353" \
    && fail "the PUT's flow (udp 5353) is still there" \
    || pass "... and the PUT's flow (udp 5353) is gone"

vpcd_appctl host-a exit
for i in $(seq 50); do kill -0 "$(vpcd_pid host-a)" 2>/dev/null || break; sleep 0.1; done
kill -0 "$(vpcd_pid host-a)" 2>/dev/null && fail "vpcd did not exit on 'exit'" || pass "ovs-appctl exit stops vpcd"
finish

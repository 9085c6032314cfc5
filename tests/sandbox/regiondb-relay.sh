#!/usr/bin/env bash
# Sandbox: vpcd --region-db through relays, under faults (docs/regiondb.md,
# "Faults").  A 3-member Raft cluster, two relays in front of it, three
# sandbox hosts (real ovs-vswitchd) whose vpcds get the list of relays.
#
# 1. The relay host-a is on is frozen (SIGSTOP), a change is committed
#    (the other relay has it, host-a cannot), then it is killed (-9):
#    host-a moves to the other relay, which resumes its monitor from
#    host-a's last transaction (monitor_cond_since): the reply holds the
#    missed change's rows only, the change is applied, no flow of host-a
#    was ever removed or re-added (every flow kept its age), its flow count
#    never dropped.
# 2. A restarted relay has no history from before its start: the hosts
#    that move to it, whose last transaction is older than its copy, get
#    the whole scope again (a full resync), and still re-add no flow that
#    did not change.
# 3. Every relay gone: the hosts keep their flows, /v1/status says not
#    connected, not in sync, since when, with the last applied cfg; a
#    change is committed meanwhile; a relay comes back and every host
#    converges to it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
. "$TOP/tests/vpcd-lib.sh"

R=$TEST_DIR/region.json
eni() { printf '{"id":"%s","subnet":"subnet-m","mac":"%s","private_ip":"%s","host":"%s","security_groups":["sg-m"]}' "$@"; }
cat > "$R" <<JSON
{ "hosts": [ {"id":"host-a","underlay_ip":"192.168.100.1"},
             {"id":"host-b","underlay_ip":"192.168.100.2"},
             {"id":"host-c","underlay_ip":"192.168.100.3"} ],
  "vpcs": [ {"id":"vpc-m","cidr_blocks":["10.0.0.0/16"],"vni":100} ],
  "subnets": [ {"id":"subnet-m","vpc":"vpc-m","cidr":"10.0.1.0/24"} ],
  "security_groups": [
    {"id":"sg-m","vpc":"vpc-m",
     "ingress":[{"protocol":"icmp","icmp_type":8,"cidr":"10.0.0.0/16"}],
     "egress":[{"protocol":"-1","cidr":"0.0.0.0/0"}]} ],
  "enis": [ $(eni eni-a1 02:00:00:00:01:0a 10.0.1.10 host-a),
            $(eni eni-b1 02:00:00:00:01:14 10.0.1.20 host-b),
            $(eni eni-c1 02:00:00:00:01:1e 10.0.1.30 host-c) ] }
JSON

CL=$TEST_DIR/cl
stop_cluster() { regiondb_cluster_stop "$CL" 3; }
trap 'stop_cluster; ovs_stop_all; exit 143' INT TERM
regiondb_cluster_start "$CL" 3
MEMBERS=$REGION_MEMBERS
R1=$(regiondb_relay_start "$CL" r1 "$MEMBERS")
R2=$(regiondb_relay_start "$CL" r2 "$MEMBERS")
RELAYS=$R1,$R2
"$VPCCTL" --region-db="$MEMBERS" load "$R" | expect "the region loads through the members (cfg 1)" 'cfg 1,'
cfg=1

ALL="host-a host-b host-c"
ovs_start host-a; sandbox_host host-a 192.168.100.1
ovs_start host-b; sandbox_host host-b 192.168.100.2
ovs_start host-c; sandbox_host host-c 192.168.100.3
sandbox_vm host-a vm-a1 1 eni-a1
sandbox_vm host-b vm-b1 1 eni-b1
sandbox_vm host-c vm-c1 1 eni-c1
for h in $ALL; do
    vpcd_start $h "" --region-db="$RELAYS" --verify-incremental
done

# synced CFG HOST...: every HOST has applied CFG, in sync.
synced() {
    local h
    for h in "${@:2}"; do
        vpcd_wait $h ".in_sync and .region_db.applied_cfg == $1" "${SYNC_SECS:-10}" || return 1
    done
}
# commit JQ: $R edited and loaded through the members; the next cfg.
commit() {
    jq "$1" "$R" > "$R.new" && mv "$R.new" "$R"
    "$VPCCTL" --region-db="$MEMBERS" load "$R" >/dev/null \
        && cfg=$((cfg + 1)) || fail "vpcctl load (cfg $((cfg + 1)))"
}
tx() { vpcctl_on "$1" trace "$R" --host "$1" "$2" 2>&1 | grep '^Verdict'; }
# relay_of HOST: the relay (r1 or r2) HOST's vpcd says it is connected to.
relay_of() {
    case $(vpcd_status "$1" .region_db.remote) in
        "$R1") echo r1 ;; "$R2") echo r2 ;; *) echo none ;;
    esac
}
relay_remote() { if [ "$1" = r1 ]; then echo "$R1"; else echo "$R2"; fi; }
other() { if [ "$1" = r1 ]; then echo r2; else echo r1; fi; }
# relay_cfg NAME: Region.cfg as relay NAME serves it.
relay_cfg() {
    ovsdb-client --timeout=5 transact "$(relay_remote "$1")" \
        '["OVS_VPC_Region",{"op":"select","table":"Region","where":[],"columns":["cfg"]}]' \
        | jq '.[0].rows[0].cfg'
}
relay_kill9() {
    local p=$CL/relay-$1.pid pid
    pid=$(cat "$p") || return 1
    kill -9 "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$p" "$CL/relay-$1.sock"
}
relay_restart() {
    rm -f "$CL/relay-$1.sock"
    regiondb_relay_start "$CL" "$1" "$MEMBERS" >/dev/null
}
# flows_aged HOST: HOST's br-int flows with their counters (dump-flows).
flows_aged() { ofctl_on "$1" dump-flows br-int | grep cookie=; }
# flows_kept WHAT HOST BEFORE: every flow of BEFORE (flows_aged output) is
# still on HOST and older than it was then (its duration): none was
# deleted, re-added or replaced since.
flows_kept() {
    flows_aged "$2" > "$TEST_DIR/after.flows"
    local out n bad
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
bad = [k for k in before if k not in after or after[k] < before[k]]
print(len(before), len(bad))
for k in bad[:5]:
    print("  " + k)
PY
)
    n=$(sed -n '1s/ .*//p' <<<"$out"); bad=$(sed -n '1s/.* //p' <<<"$out")
    if [ "${bad:-x}" = 0 ] && [ "${n:-0}" -gt 0 ]; then
        pass "$1 (all $n flows kept their age)"
    else
        fail "$1 (flows before, removed or re-added: $out)"
    fi
}
# sampler_start HOST: of_count of HOST every 0.1 s into a file until
# sampler_stop; sampler_min prints the smallest count seen.
sampler_start() {
    SAMPLES=$TEST_DIR/$1.samples
    : > "$SAMPLES"
    ( while [ ! -f "$TEST_DIR/stop-sampler" ]; do
          of_count "$1" >> "$SAMPLES"; sleep 0.1
      done ) &
    SAMPLER=$!
}
sampler_stop() {
    touch "$TEST_DIR/stop-sampler"; wait "$SAMPLER"; rm -f "$TEST_DIR/stop-sampler"
}
sampler_min() {
    if grep -qv '^[0-9][0-9]*$' "$SAMPLES" || [ ! -s "$SAMPLES" ]; then
        echo error
    else
        sort -n "$SAMPLES" | head -1
    fi
}

echo "Three hosts follow the cluster through two relays"
synced 1 $ALL && pass "every vpcd applied cfg 1 through a relay, in sync" \
    || fail "not every vpcd applied cfg 1"
for h in $ALL; do
    r=$(relay_of $h)
    [ "$r" != none ] && pass "$h's /v1/status names its relay ($r)" \
        || fail "$h's /v1/status does not name a relay: $(vpcd_status $h .region_db.remote)"
done
vpcd_status host-a '.region_db.resyncs.last' \
    | expect "host-a's first reply was the initial sync" '^initial$'
vpcd_status host-a '.region_db.sessions' | expect "... of its first session" '^1$'
tx host-a 'from eni-a1 to 10.0.1.20 icmp' \
    | expect "host-a reaches eni-b1 on host-b" 'ENCAPSULATED to 192\.168\.100\.2, VNI 100'

echo "host-a's relay frozen, a change committed, the relay killed"
X=$(relay_of host-a); Y=$(other "$X")
A0=$(of_count host-a)
flows_aged host-a > "$TEST_DIR/before.flows"
sampler_start host-a
kill -STOP "$(cat "$CL/relay-$X.pid")"
tx host-a 'from eni-a1 to 10.0.1.22 icmp' \
    | expect_not "before: host-a does not encapsulate to 10.0.1.22" 'ENCAPSULATED'
commit ".enis += [$(eni eni-b2 02:00:00:00:01:16 10.0.1.22 host-b)]"
for _ in $(seq 100); do [ "$(relay_cfg "$Y")" = "$cfg" ] && break; sleep 0.1; done
relay_cfg "$Y" | expect "relay $Y serves cfg $cfg" "^$cfg\$"
on_y=""
for h in $ALL; do [ "$(relay_of $h)" = "$Y" ] && on_y="$on_y $h"; done
if [ -n "$on_y" ]; then
    synced $cfg $on_y && pass "the hosts on $Y ($on_y) apply cfg $cfg" \
        || fail "the hosts on $Y do not apply cfg $cfg"
fi
vpcd_status host-a '.region_db.applied_cfg' \
    | expect "host-a, on frozen $X, has not got it (still cfg $((cfg - 1)))" "^$((cfg - 1))\$"
rows_before=$(vpcd_status host-a '.region_db.tables | [.[].rows] | add')
relay_kill9 "$X"
vpcd_expect_wait "host-a moves to the other relay ($Y)" host-a \
    ".region_db.remote == \"$(relay_remote "$Y")\"" 10
synced $cfg $ALL && pass "every host applies cfg $cfg" \
    || fail "not every host applies cfg $cfg after the move"
tx host-a 'from eni-a1 to 10.0.1.22 icmp' \
    | expect "host-a encapsulates to eni-b2, committed while it moved" 'ENCAPSULATED to 192\.168\.100\.2, VNI 100, in stage mapping by eni-b2'
vpcd_status host-a '.region_db.sessions' | expect "host-a: a second session" '^2$'
vpcd_status host-a '.region_db.resyncs | "\(.last) full=\(.full) resumed=\(.resumed)"' \
    | expect "... which $Y resumed from host-a's last transaction (monitor_cond_since), no full resend" '^resumed full=0 resumed=1$'
rows=$(vpcd_status host-a .region_db.resyncs.rows_last)
# The reply has the new ENI and the Region row (its cfg): 2 of the
# replica's rows, against every row of the scope for a full resend.
[ "$rows" -ge 1 ] && [ "$rows" -le 3 ] && [ "$rows_before" -ge 8 ] \
    && pass "... its reply changed $rows row(s) of the $rows_before in host-a's replica" \
    || fail "the resumed reply changed $rows row(s) (replica: $rows_before)"
grep 'resumed from our last transaction' "${OVS_DIR[host-a]}/vpcd.log" \
    | expect "host-a's log says it resumed" 'session 2 resumed'
sampler_stop
[ "$(sampler_min)" != error ] && [ "$(sampler_min)" -ge "$A0" ] \
    && pass "host-a's flow count never dropped below $A0 ($(wc -l < "$SAMPLES") samples)" \
    || fail "host-a's flow count dropped: min $(sampler_min), before $A0"
flows_kept "no flow of host-a was removed or re-added across the move" host-a "$TEST_DIR/before.flows"
if [ "$VPC_MAPPING" = action ]; then
    grep 'from region database cfg 2' "${OVS_DIR[host-a]}/vpcd.log" \
        | expect "host-a (action): the change was cache entries only" 'cache entries only'
else
    grep 'applied version .* from region database cfg 2:' "${OVS_DIR[host-a]}/vpcd.log" \
        | expect "host-a (flows): the change added its mapping flow and deleted nothing" '\([1-9] added, 0 modified, 0 deleted\)'
fi

echo "A restarted relay: no history from before its start"
# Every host is on Y now.  Y frozen, a change committed (no host sees it,
# nor acknowledges it), X restarted: X's history begins with its copy of
# the database, which has the change, so no host's last transaction is in
# it.
flows_aged host-a > "$TEST_DIR/before.flows"
full0=$(vpcd_status host-a .region_db.resyncs.full)
kill -STOP "$(cat "$CL/relay-$Y.pid")"
commit ".enis += [$(eni eni-c2 02:00:00:00:01:20 10.0.1.32 host-c)]"
relay_restart "$X"
relay_cfg "$X" | expect "the restarted relay $X serves cfg $cfg" "^$cfg\$"
relay_kill9 "$Y"
SYNC_SECS=20 synced $cfg $ALL && pass "every host moves to the restarted relay $X and applies cfg $cfg" \
    || fail "not every host applies cfg $cfg on the restarted relay"
for h in $ALL; do
    [ "$(relay_of $h)" = "$X" ] || fail "$h is not on $X"
done
vpcd_status host-a ".region_db.resyncs | \"\(.last) full=\(.full - $full0)\"" \
    | expect "host-a got the whole scope again from the restarted relay (full resync)" '^full full=1$'
for h in host-b host-c; do
    vpcd_status $h .region_db.resyncs.last | expect "... and so did $h" '^full$'
done
vpcd_status host-a '.region_db.resyncs | .rows_last == .replica_rows' \
    | expect "... every row of its replica" '^true$'
tx host-a 'from eni-a1 to 10.0.1.32 icmp' \
    | expect "host-a encapsulates to eni-c2" 'ENCAPSULATED to 192\.168\.100\.3, VNI 100, in stage mapping by eni-c2'
flows_kept "a full resync removed or re-added no flow of host-a" host-a "$TEST_DIR/before.flows"
grep "from region database cfg $cfg" "${OVS_DIR[host-a]}/vpcd.log" | tail -1 \
    | expect "... the cfg $cfg compile deleted and modified nothing" '(cache entries only|[0-9]+ added, 0 modified, 0 deleted)'

echo "Every relay gone: the hosts keep forwarding, say so, and converge"
flows_aged host-a > "$TEST_DIR/before.flows"
A0=$(of_count host-a)
last=$cfg
relay_kill9 "$X"
for h in $ALL; do
    vpcd_expect_wait "$h: not connected, not in sync, disconnected since a time, last applied cfg $last" $h \
        "(.region_db.connected | not) and (.in_sync | not) and .region_db.remote == null and (.region_db.disconnected_since | test(\"^20[0-9-]+T\")) and .region_db.applied_cfg == $last" 10
done
commit ".enis += [$(eni eni-b3 02:00:00:00:01:17 10.0.1.23 host-b)]"
vpcd_status host-a '.region_db.disconnected_ms > 0 and .region_db.disconnects >= 1' \
    | expect "host-a counts the disconnection and how long it lasts" '^true$'
vpcd_status host-a '.in_sync' | expect "host-a still does not claim to be in sync" '^false$'
vpcd_http host-a GET /metrics >/dev/null
expect "/metrics: vpcd_region_db_connected 0" '^vpcd_region_db_connected 0$' <<<"$VPCD_BODY"
expect "/metrics: the resumed session counted" '^vpcd_region_db_resyncs_total\{kind="resumed"\} [1-9]' <<<"$VPCD_BODY"
[ "$(of_count host-a)" = "$A0" ] && pass "host-a keeps its $A0 flows" \
    || fail "host-a's flows: $(of_count host-a), were $A0"
tx host-a 'from eni-a1 to 10.0.1.20 icmp' \
    | expect "host-a still forwards to eni-b1" 'ENCAPSULATED to 192\.168\.100\.2, VNI 100'
relay_restart "$Y"
SYNC_SECS=30 synced $cfg $ALL && pass "a relay back: every host reconnects and applies cfg $cfg" \
    || fail "not every host converges after the relay returned"
tx host-a 'from eni-a1 to 10.0.1.23 icmp' \
    | expect "host-a encapsulates to eni-b3, committed while no relay was up" 'ENCAPSULATED to 192\.168\.100\.2, VNI 100, in stage mapping by eni-b3'
vpcd_status host-a '.region_db | .connected and .disconnected_since == null' \
    | expect "host-a's status: connected again" '^true$'
flows_kept "no flow of host-a was removed or re-added across the outage" host-a "$TEST_DIR/before.flows"
for h in $ALL; do
    vpcd_status "$h" '.region_db.dump_cache.mismatches' \
        | expect "$h's dump cache always matched a fresh dump" '^0$'
    echo "  $h: $(vpcd_status "$h" '.region_db | "sessions=\(.sessions) disconnects=\(.disconnects) resyncs=\(.resyncs)"')"
done
stop_cluster
finish

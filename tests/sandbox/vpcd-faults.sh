#!/usr/bin/env bash
# Sandbox: vpcd under injected faults (issue 11, "in sync" must be true).
# Each section breaks one thing the way production does and checks that
# /v1/status, /metrics, the log and the switch itself tell the truth:
#
#   1. a PUT while ovs-vswitchd is down that changes flows and cache
#      entries: once it is back, the switch holds that version, not the
#      previous one;
#   2. a full /tmp, then a full run directory, while the mapping cache is
#      reloaded (action mode): the cache is never emptied behind a green
#      status, and a failed load shows;
#   3. a read-only state directory: the failed persist shows, and is
#      retried when the directory is writable again;
#   4. the version keeps growing across vpcd restarts (with or without
#      --intents), and a corrupt state file falls back to the last good
#      copy with self-healing on.
#
# Faults are injected in a private mount namespace (unshare -m) in which
# vpcd runs: a tiny full tmpfs, a read-only bind mount.  TEST_DIR is kept out
# of /tmp, which section 2 hides.
TEST_DIR=${TEST_DIR:-$(mktemp -d /var/tmp/ovs-vpc-test.XXXXXX)}
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vpcd-lib.sh"
SG_IN=$(stage_table sg_in)
EX=$TOP/examples/web-tier.json

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web 1 eni-web-a
sandbox_vm host-a vm-client 2 eni-client-a
D=${OVS_DIR[host-a]}

# in_ns SETUP: VPCD_WRAP for a vpcd in a new mount namespace in which the
# shell commands SETUP ran first.
cat > "$TEST_DIR/in-ns.sh" <<'SH'
set -e
eval "$1"
shift
exec "$@"
SH
in_ns() { VPCD_WRAP=(unshare -m bash "$TEST_DIR/in-ns.sh" "$1"); }
# ns_run CMD...: CMD in the mount namespace of host-a's vpcd.
ns_run() { nsenter -t "$(vpcd_pid host-a)" -m -- "$@"; }
# tiny_full DIR: mounts a 64 KiB tmpfs (mode 0700) on DIR and fills it.
tiny_full() {
    printf 'mount -t tmpfs -o size=64k,mode=0700 tmpfs %q && ' "$1"
    printf '{ dd if=/dev/zero of=%q/fill bs=4k 2>/dev/null || true; }' "$1"
}
# holder_start SETUP: a process in a new mount namespace in which the shell
# commands SETUP ran; holder_run CMD... runs CMD in that namespace (so that
# ovs-vswitchd and vpcd can share it).  Stopped by finish.
HOLDER=
holder_start() {
    unshare -m bash -c "$1 && touch $TEST_DIR/holder-ready && exec sleep 1000000" &
    HOLDER=$!
    for i in $(seq 50); do [ -f "$TEST_DIR/holder-ready" ] && break; sleep 0.1; done
    [ -f "$TEST_DIR/holder-ready" ] || fail "mount namespace setup failed"
}
holder_run() { nsenter -t "$HOLDER" -m -- "$@"; }
holder_stop() {
    [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
    HOLDER=
}
eval "_finish_no_holder() $(declare -f finish | tail -n +2)"
finish() { holder_stop; _finish_no_holder; }
trap 'holder_stop; ovs_stop_all; exit 143' INT TERM
# restart_vpcd [ARGS...]: stops host-a's vpcd and starts it again (through
# VPCD_WRAP, which is then reset).
restart_vpcd() { vpcd_kill host-a; vpcd_start host-a "" "$@"; VPCD_WRAP=(); }
# metric NAME: the value of one line of /metrics.
metric() {
    vpcd_http host-a GET /metrics >/dev/null
    awk -v m="$1" '$1 == m { print $2 }' <<<"$VPCD_BODY"
}
# doc FILE JQ: the web tier changed by JQ, in FILE.
doc() { jq "$2" "$EX" > "$1"; }
# sg_rule PROTO PORT: a jq filter adding an ingress rule to sg-web.
sg_rule() { printf '(.security_groups[] | select(.id == "sg-web") | .ingress) += [{"protocol": "%s", "from_port": %d, "to_port": %d, "cidr": "10.10.0.0/16"}]' "$1" "$2" "$2"; }
new_eni='.enis += [{"id": "eni-new-b", "subnet": "subnet-web", "host": "host-b", "mac": "02:00:00:10:01:1e", "private_ip": "10.10.1.30", "security_groups": ["sg-web"]}]'

echo "1. PUT while ovs-vswitchd is down, changing flows and cache entries"
vpcd_start host-a ""
vpcd_http host-a PUT /v1/intents "$EX" >/dev/null
vpcd_expect_wait "version 1 installed" host-a '.in_sync and .version == 1'
ovs_kill_vswitchd host-a
doc "$TEST_DIR/v2.json" "$new_eni | $(sg_rule udp 5353)"
vpcd_http host-a PUT /v1/intents "$TEST_DIR/v2.json" >/dev/null
[ "$VPCD_STATUS" = 202 ] && pass "PUT with ovs-vswitchd down: 202" \
    || fail "PUT with ovs-vswitchd down: $VPCD_STATUS $VPCD_BODY"
ovs_start_vswitchd host-a
vpcd_expect_wait "ovs-vswitchd back: in sync with version 2" host-a '.in_sync and .version == 2'
ofctl_on host-a dump-flows br-int table=$SG_IN \
    | expect "... and the switch holds version 2's new flow" 'tp_dst=5353'
[ "$(of_count host-a)" = "$(vpcd_status host-a .flows)" ] \
    && pass "... and exactly the flows status reports" \
    || fail "br-int holds $(of_count host-a) flows, status says $(vpcd_status host-a .flows)"
if [ "$VPC_MAPPING" = action ]; then
    appctl_on host-a vpcmap/show \
        | expect "... and the cache holds version 2's new entry" '^vni=1010 10\.10\.1\.30 -> 192\.168\.100\.2'
    n=$(vpcd_status host-a .cache_entries)
    appctl_on host-a vpcmap/stats | expect "... and all $n entries" "^entries=$n "
else
    ofctl_on host-a dump-flows br-int table=$(stage_table mapping) \
        | expect "... and the mapping flow of version 2's new ENI (10.10.1.30)" 'reg2=0xa0a011e .*192\.168\.100\.2'
fi

if [ "$VPC_MAPPING" = action ]; then
    echo "2. Mapping-cache reloads with a full /tmp, then a full run directory"
    # 300 more ENIs on host-b (a full load: more than 256 differences),
    # then the same 300 moved to host-c (300 changed entries).
    python3 - "$TEST_DIR/v2.json" "$TEST_DIR/big.json" "$TEST_DIR/big2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["hosts"].append({"id": "host-c", "underlay_ip": "192.168.100.3"})
d["subnets"].append({"id": "subnet-big", "vpc": "vpc-web", "cidr": "10.10.8.0/22"})
for i in range(300):
    d["enis"].append({"id": "eni-x%d" % i, "subnet": "subnet-big", "host": "host-b",
                      "mac": "02:00:00:08:%02x:%02x" % (i // 256, i % 256),
                      "private_ip": "10.10.%d.%d" % (8 + i // 200, 10 + i % 200),
                      "security_groups": ["sg-web"]})
json.dump(d, open(sys.argv[2], "w"))
for e in d["enis"]:
    if e["id"].startswith("eni-x"):
        e["host"] = "host-c"
json.dump(d, open(sys.argv[3], "w"))
PY
    # ovs-vswitchd and vpcd share a mount namespace in which /tmp and
    # $D/run are full.
    mkdir -p "$D/run"
    holder_start "$(tiny_full /tmp) && $(tiny_full "$D/run")"
    ovs_kill_vswitchd host-a
    holder_run env OVS_RUNDIR="$D" OVS_LOGDIR="$D" OVS_DBDIR="$D" \
        ovs-vswitchd "unix:$D/db.sock" --enable-dummy --disable-system \
        --pidfile="$D/ovs-vswitchd.pid" --unixctl="$D/ovs-vswitchd.ctl" \
        --log-file="$D/ovs-vswitchd.log" -vconsole:off --detach --no-chdir \
        2>>"$D/stderr.log"
    VPCD_WRAP=(holder_run)
    restart_vpcd
    vpcd_expect_wait "ovs-vswitchd and vpcd with a full /tmp: in sync" host-a .in_sync 10
    vpcd_http host-a PUT /v1/intents "$TEST_DIR/big.json" >/dev/null
    n=$(vpcd_status host-a .cache_entries)
    [ "$VPCD_STATUS" = 200 ] && [ "$n" = 305 ] \
        && pass "a PUT of 300 more remote ENIs: 200, 305 entries desired" \
        || fail "PUT of 300 more remote ENIs: $VPCD_STATUS $VPCD_BODY"
    appctl_on host-a vpcmap/stats \
        | expect "... and the cache really holds them (a full /tmp is not used)" "^entries=$n "
    gen=$(appctl_on host-a vpcmap/stats | sed 's/.*generation=\([0-9]*\).*/\1/')

    VPCD_WRAP=(holder_run)
    restart_vpcd --run-dir="$D/run"
    vpcd_expect_wait "vpcd with a full run directory: in sync (nothing to load)" host-a '.in_sync and .version == 3'
    errors0=$(metric 'vpcd_errors_total{kind="cache"}')
    vpcd_http host-a PUT /v1/intents "$TEST_DIR/big2.json" >/dev/null
    [ "$VPCD_STATUS" = 202 ] && jq -e '.in_sync == false' <<<"$VPCD_BODY" >/dev/null \
        && pass "a PUT that needs a cache load: 202, not in sync" \
        || fail "PUT with a full run directory: $VPCD_STATUS $VPCD_BODY"
    jq -r .error <<<"$VPCD_BODY" \
        | expect "... the error names the run directory and ENOSPC" "$D/run.*No space left"
    vpcd_status host-a .in_sync | expect "status: not in sync" '^false$'
    errors1=$(metric 'vpcd_errors_total{kind="cache"}')
    [ "${errors1:-0}" -gt "${errors0:-0}" ] \
        && pass "/metrics counts the cache error ($errors0 -> $errors1)" \
        || fail "/metrics vpcd_errors_total{kind=\"cache\"}: '$errors0' -> '$errors1'"
    metric vpcd_in_sync | expect "/metrics: vpcd_in_sync 0" '^0$'
    grep -E 'WARN.*No space left' "$D/vpcd.log" | expect "the log says why" 'mapping'
    appctl_on host-a vpcmap/stats \
        | expect "the cache kept version 3's 305 entries, same generation" "^entries=305 generation=$gen "
    holder_run env TMPDIR="$D/run" OVS_RUNDIR="$D" "$VPCCTL" apply \
        "$TEST_DIR/big2.json" --host host-a --mapping=action 2>&1 \
        | expect "vpcctl apply with a full \$TMPDIR fails, naming it" "^vpcctl: mapping cache: $D/run/.*No space left"
    appctl_on host-a vpcmap/stats \
        | expect "... and leaves the cache alone" "^entries=305 generation=$gen "
    holder_run rm -f "$D/run/fill"
    vpcd_expect_wait "space freed: the audit loads the cache, in sync" host-a '.in_sync and .version == 4' 10
    appctl_on host-a vpcmap/show | grep -c '> 192\.168\.100\.3' \
        | expect "... the 300 entries point to host-c" '^300$'
    restart_vpcd
    vpcd_http host-a PUT /v1/intents "$TEST_DIR/v2.json" >/dev/null
    vpcd_expect_wait "back to the small document" host-a '.in_sync'
fi

echo "3. A read-only state directory"
v=$(vpcd_status host-a .version)
in_ns "mount --bind $D/state $D/state && mount -o remount,bind,ro $D/state"
restart_vpcd
vpcd_expect_wait "vpcd with a read-only state directory: in sync" host-a ".in_sync and .version == $v"
doc "$TEST_DIR/v3.json" "$new_eni | $(sg_rule udp 5353) | $(sg_rule tcp 8443)"
errors0=$(metric 'vpcd_errors_total{kind="persist"}')
vpcd_http host-a PUT /v1/intents "$TEST_DIR/v3.json" >/dev/null
[ "$VPCD_STATUS" = 202 ] && jq -e '.in_sync == false and .persisted == false' <<<"$VPCD_BODY" >/dev/null \
    && pass "PUT that cannot be persisted: 202, not in sync, not persisted" \
    || fail "PUT with a read-only state directory: $VPCD_STATUS $VPCD_BODY"
jq -r .error <<<"$VPCD_BODY" | expect "... the error says why" 'cannot persist.*Read-only file system'
ofctl_on host-a dump-flows br-int table=$SG_IN | expect "... the flows are installed all the same" 'tp_dst=8443'
vpcd_status host-a '.in_sync, .persisted' | tr '\n' ' ' \
    | expect "status: not in sync, not persisted" '^false false $'
errors1=$(metric 'vpcd_errors_total{kind="persist"}')
[ "${errors1:-0}" -gt "${errors0:-0}" ] \
    && pass "/metrics counts the persist error ($errors0 -> $errors1)" \
    || fail "/metrics vpcd_errors_total{kind=\"persist\"}: '$errors0' -> '$errors1'"
metric vpcd_in_sync | expect "/metrics: vpcd_in_sync 0" '^0$'
grep 'cannot persist' "$D/vpcd.log" | expect "the log says so" 'Read-only file system'
ns_run mount -o remount,bind,rw "$D/state"
vpcd_expect_wait "state directory writable again: persisted by the audit, in sync" host-a '.in_sync and .persisted' 10
v3=$(vpcd_status host-a .version)

echo "4. Versions across restarts, a corrupt state file"
restart_vpcd
vpcd_expect_wait "vpcd restarted: the persisted version $v3 (not 1)" host-a ".in_sync and .version == $v3"
vpcd_http host-a GET /v1/intents >/dev/null
[ "$VPCD_BODY" = "$(cat "$TEST_DIR/v3.json")" ] && pass "... and its document" \
    || fail "GET /v1/intents after the restart is not the last document"
doc "$TEST_DIR/v4.json" "$new_eni | $(sg_rule udp 5353) | $(sg_rule tcp 9443)"
vpcd_http host-a PUT /v1/intents "$TEST_DIR/v4.json" >/dev/null
vpcd_expect_wait "one more PUT: version $((v3 + 1))" host-a ".in_sync and .version == $((v3 + 1))"
vpcd_kill host-a
printf 'vpcd-state version=%d length=10 crc32c=0\n{"vpcs": [' $((v3 + 1)) > "$D/state/vpcd.state"
vpcd_start host-a ""
vpcd_expect_wait "corrupt state file: vpcd starts from the last good copy (version $v3)" \
    host-a ".in_sync and .version == $v3"
vpcd_http host-a GET /v1/intents >/dev/null
[ "$VPCD_BODY" = "$(cat "$TEST_DIR/v3.json")" ] && pass "... which is the previous document" \
    || fail "GET /v1/intents after the corrupt state file: not the previous document"
vpcd_status host-a .last_error | expect "status names the corrupt file" 'vpcd\.state: corrupt.*vpcd\.state\.prev'
metric 'vpcd_errors_total{kind="state_file"}' | expect "/metrics counts it" '^1$'
grep -E 'ERR|WARN' "$D/vpcd.log" | expect "the log says so" 'vpcd\.state: corrupt'
[ -f "$D/state/vpcd.state.corrupt" ] && pass "the corrupt copy is kept aside" \
    || fail "no vpcd.state.corrupt"
ofctl_on host-a dump-flows br-int table=$SG_IN | expect_not "the switch is back to version $v3's flows" 'tp_dst=9443'
n_sg_in=$(ofctl_on host-a dump-flows br-int table=$SG_IN | grep -c cookie=)
ofctl_on host-a del-flows br-int table=$SG_IN
for i in $(seq 100); do
    [ "$(ofctl_on host-a dump-flows br-int table=$SG_IN | grep -c cookie=)" = "$n_sg_in" ] && break
    sleep 0.1
done
[ "$(ofctl_on host-a dump-flows br-int table=$SG_IN | grep -c cookie=)" = "$n_sg_in" ] \
    && pass "... and vpcd keeps self-healing (table 91 restored)" \
    || fail "table 91 not restored after starting from the last good copy"
restart_vpcd
vpcd_expect_wait "restarted again: the good copy was persisted back (version $v3)" \
    host-a ".in_sync and .version == $v3 and .errors.state_file == 0"
cp "$TEST_DIR/v3.json" "$TEST_DIR/watched.json"
restart_vpcd --intents="$TEST_DIR/watched.json"
vpcd_expect_wait "restarted with --intents of the persisted document: still version $v3" \
    host-a ".in_sync and .version == $v3"
restart_vpcd --intents="$TEST_DIR/v4.json"
vpcd_expect_wait "... with --intents of another document: version $((v3 + 1))" \
    host-a ".in_sync and .version == $((v3 + 1))"
finish

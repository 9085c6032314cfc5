#!/usr/bin/env bash
# Sandbox: vpcd --no-switch, the simulated host of make bench-scale
# (docs/vpcd.md, "Without a switch").  The same host compiled three ways
# must give the same flows: a simulated vpcd (--record), a real vpcd beside
# a real ovs-vswitchd with the ENIs on the same ofports, and vpcctl compile
# without a switch; on an edge too.  Following the region database, a
# simulated host acknowledges in Host_Status like a real one, and a change
# reaches its recorded flows and its acknowledgement.  The simulated vpcds
# run with OVS_RUNDIR and --db pointing at a directory with no OVS in it:
# anything they tried to say to a switch would fail.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vpcd-lib.sh"

NOOVS=$TEST_DIR/no-ovs
mkdir -p "$NOOVS"
SIMS=()
# sim_start NAME ARGS...: a simulated vpcd in $TEST_DIR/sim-NAME (pid file
# there), recording to $TEST_DIR/sim-NAME/flows.rec; sets SIM_PORT.
sim_start() {
    local n=$1 d=$TEST_DIR/sim-$1; shift
    mkdir -p "$d"
    vpcd_free_port ""
    SIM_PORT=$VPCD_FREE_PORT
    SIMS+=("$d/vpcd.pid")
    env OVS_RUNDIR="$NOOVS" OVS_DBDIR="$NOOVS" "$VPCD" --no-switch \
        --record="$d/flows.rec" --db="unix:$NOOVS/db.sock" \
        --state-dir=none --run-dir="$d/run" --unixctl="$d/vpcd.ctl" \
        --http="127.0.0.1:$SIM_PORT" --mapping="$VPC_MAPPING" \
        --pidfile="$d/vpcd.pid" --log-file="$d/vpcd.log" --detach \
        --no-chdir -vconsole:off "$@" 2>>"$d/stderr.log" \
        || { fail "simulated vpcd $n did not start"; cat "$d/stderr.log"; }
}
sim_status() { curl -s -m 5 "http://127.0.0.1:$1/v1/status"; }
sim_wait() {
    local i
    for i in $(seq 200); do
        sim_status "$1" | jq -e "$2" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    sim_status "$1" | sed 's/^/       | /' >&2
    return 1
}
sim_stop_all() { local p; for p in "${SIMS[@]}"; do pid_stop "$p"; done; }
flows_of() { sed '/^# mapping cache$/q' "$1" | grep -v '^#' | sort; }
trap 'sim_stop_all; pid_stop "$TEST_DIR/rdb/region.pid"; ovs_stop_all; exit 143' INT TERM

# --record without --no-switch is refused, naming both.
expect_status "--record without --no-switch is refused" 1 \
    "$VPCD" --host=host-a --record="$TEST_DIR/x" --state-dir=none --http=none
"$VPCD" --host=host-a --record="$TEST_DIR/x" --state-dir=none --http=none 2>&1 \
    | expect "... saying it needs --no-switch" 'only with --no-switch'

# 1. A file, host-a of web-tier: simulated, real, vpcctl compile.
EX=$TOP/examples/web-tier.json
sim_start web --host=host-a --intents="$EX"
if sim_wait "$SIM_PORT" '.in_sync and .switch == "none" and .flows > 0'; then
    pass "simulated host-a is in sync without a switch"
else fail "simulated host-a is in sync without a switch"; fi
REC=$TEST_DIR/sim-web/flows.rec
expect "its record numbers the ENIs in document order, then the tunnel" \
    '^# ofports: eni-web-a=1 eni-client-a=2; tunnel=3$' head -2 "$REC"
n_sim=$(flows_of "$REC" | wc -l)
e_sim=$(sed -n '/^# mapping cache$/,$p' "$REC" | grep -c '^vni=')
[ "$VPC_MAPPING" = action ] && want_e=4 || want_e=0
[ "$e_sim" = "$want_e" ] && pass "its record has the $want_e cache entries" \
    || fail "its record has $e_sim cache entries, not $want_e"

# The real host: the same ofports (ENIs 1 and 2, the Geneve port 3).
ovs_start host-a
vsctl_on host-a \
    -- add-br br-int -- set bridge br-int datapath_type=dummy fail-mode=secure \
    -- add-port br-int vpc-tun -- set interface vpc-tun type=geneve \
       options:remote_ip=flow options:key=flow ofport_request=3 \
    -- add-port br-int vm1 -- set interface vm1 type=dummy ofport_request=1 \
       external_ids:vpc-eni-id=eni-web-a \
    -- add-port br-int vm2 -- set interface vm2 type=dummy ofport_request=2 \
       external_ids:vpc-eni-id=eni-client-a
vpcd_start host-a "" --intents="$EX"
vpcd_expect_wait "the real host-a is in sync" host-a '.in_sync and .flows > 0' 10
vpcd_appctl host-a vpcd/dump-flows | sort > "$TEST_DIR/real.flows"
if [ -s "$TEST_DIR/real.flows" ] \
   && diff "$TEST_DIR/real.flows" <(flows_of "$REC") > "$TEST_DIR/diff1"; then
    pass "the simulated host compiles the real host's $n_sim flows"
else fail "simulated and real flows differ:"; head -20 "$TEST_DIR/diff1"; fi
[ "$(of_count host-a)" = "$n_sim" ] \
    && pass "the real switch holds as many flows ($n_sim)" \
    || fail "the real switch holds $(of_count host-a) flows, not $n_sim"
if [ "$VPC_MAPPING" = action ]; then
    appctl_on host-a vpcmap/show | grep '^vni=' | sort > "$TEST_DIR/real.map"
    sed -n '/^# mapping cache$/,$p' "$REC" | grep '^vni=' | sort \
        > "$TEST_DIR/sim.map"
    if [ -s "$TEST_DIR/real.map" ] \
       && diff "$TEST_DIR/real.map" "$TEST_DIR/sim.map" > "$TEST_DIR/diff2"; then
        pass "... and the real mapping cache's entries"
    else fail "mapping cache entries differ:"; cat "$TEST_DIR/diff2"; fi
fi
ovs_stop_all

OVS_RUNDIR=$NOOVS "$VPCCTL" compile "$EX" --host host-a --mapping="$VPC_MAPPING" \
    2>/dev/null | grep -v '^#' | sort > "$TEST_DIR/compile.flows"
if [ -s "$TEST_DIR/compile.flows" ] \
   && diff "$TEST_DIR/compile.flows" <(flows_of "$REC") > "$TEST_DIR/diff3"; then
    pass "... and vpcctl compile's without a switch"
else fail "simulated and vpcctl compile flows differ:"; head -20 "$TEST_DIR/diff3"; fi

# An edge: the tunnel, uplink, Direct Connect and VPN ports numbered too.
sim_start edge --host=edge-1 --intents="$TOP/examples/edge.json"
sim_wait "$SIM_PORT" '.in_sync and .flows > 0' \
    && pass "simulated edge-1 is in sync" || fail "simulated edge-1 is in sync"
OVS_RUNDIR=$NOOVS "$VPCCTL" compile "$TOP/examples/edge.json" --host edge-1 \
    --mapping="$VPC_MAPPING" 2>/dev/null | grep -v '^#' | sort \
    > "$TEST_DIR/edge.flows"
if [ -s "$TEST_DIR/edge.flows" ] && diff "$TEST_DIR/edge.flows" \
       <(flows_of "$TEST_DIR/sim-edge/flows.rec") > "$TEST_DIR/diff4"; then
    pass "the simulated edge compiles vpcctl compile's flows"
else fail "simulated edge flows differ:"; head -20 "$TEST_DIR/diff4"; fi

# 2. Following the region database: acknowledgement and a change.
mkdir -p "$TEST_DIR/rdb"
regiondb_start "$TEST_DIR/rdb"
"$VPCCTL" --region-db="$REGION_DB" load "$EX" | expect "web-tier loads (cfg 1)" 'cfg 1,'
sim_start rdb --host=host-a --region-db="$REGION_DB"
RPORT=$SIM_PORT
RREC=$TEST_DIR/sim-rdb/flows.rec
sim_wait "$RPORT" '.in_sync and .region_db.applied_cfg == 1' \
    && pass "the simulated host applies cfg 1" \
    || fail "the simulated host applies cfg 1"
"$VPCCTL" --region-db="$REGION_DB" status \
    | expect "... and acknowledges it in Host_Status" '^host-a +1/1 +in sync'
# Its flows are those of vpcctl compile of the same document on the
# recorded ofports.
binds=$(sed -n 's/^# ofports: //p' "$RREC" | sed 's/;.*//')
tun=$(sed -n 's/^# ofports: .*tunnel=\([0-9]*\).*/\1/p' "$RREC")
bargs=()
for b in $binds; do bargs+=(--bind "$b"); done
"$VPCCTL" --region-db="$REGION_DB" dump > "$TEST_DIR/dump.json"
OVS_RUNDIR=$NOOVS "$VPCCTL" compile "$TEST_DIR/dump.json" --host host-a \
    --mapping="$VPC_MAPPING" "${bargs[@]}" --tunnel-port "$tun" 2>/dev/null \
    | grep -v '^#' | sort > "$TEST_DIR/rdb.flows"
if [ -s "$TEST_DIR/rdb.flows" ] && [ -n "$tun" ] \
   && diff "$TEST_DIR/rdb.flows" <(flows_of "$RREC") > "$TEST_DIR/diff5"; then
    pass "its recorded flows are vpcctl compile's on the same ofports"
else fail "region-db simulated flows differ:"; head -20 "$TEST_DIR/diff5"; fi

"$VPCCTL" --region-db="$REGION_DB" authorize-security-group-ingress \
    --group-id sg-web --protocol tcp --port 8443 --cidr 0.0.0.0/0 \
    | expect "a rule is added (cfg 2)" 'cfg 2'
sim_wait "$RPORT" '.in_sync and .region_db.applied_cfg == 2' \
    && pass "the simulated host applies cfg 2" \
    || fail "the simulated host applies cfg 2"
"$VPCCTL" --region-db="$REGION_DB" status \
    | expect "... which acknowledges cfg 2" '^host-a +2/2 +in sync'
expect "... with the new rule in its recorded flows" 'tcp_dst=8443' cat "$RREC"
sim_status "$RPORT" | jq -r '.region_db.updates' \
    | expect "its /v1/status counts the updates it received" '^[1-9]'

sim_stop_all
pid_stop "$TEST_DIR/rdb/region.pid"
finish

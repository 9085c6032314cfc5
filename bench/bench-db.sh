#!/usr/bin/env bash
# bench/bench-db.sh: the region database path (issue 12; docs/benchmarks.md,
# "The region database").
#
# A synthetic region (bench/gen-region.py; BENCH_DB_ENIS ENIs, default
# 10,000 with 1,000 VPCs on 100 hosts; 100000 gives make bench's 10,000 VPCs
# on 1,000 hosts) is loaded into a fresh ovsdb-server (timed, vpcctl load).
# One sandboxed host (ovs-vswitchd, dummy datapath, host-0000's ENIs bound
# to dummy ports) runs vpcd --region-db in action mode: the time from its
# start to applying the region's cfg (in sync) is the first convergence.
# Then bench/db_changes.py drives BENCH_DB_CHANGES (default 200) mixed
# changes in host-0000's scope through one vpc-regiond and reports per
# change the agent time, the commit-to-acknowledgement time and the API
# call; vpcd's VmRSS before and after.  Results in bench/out/bench-db-N.*.
# BENCH_DB_MAPPING=flows for the other mapping mode; REGIOND_ARGS adds
# options to vpc-regiond (e.g. -vregiondb_write:dbg for the split of a
# write in its log).  Every daemon is stopped by its pid file; the whole
# run is bounded by BENCH_DB_TIMEOUT seconds (default 1800).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TOP/tests/lib.sh"
. "$TOP/tests/vpcd-lib.sh"
VPC_MAPPING=${BENCH_DB_MAPPING:-action}
ENIS=${BENCH_DB_ENIS:-10000}
CHANGES=${BENCH_DB_CHANGES:-200}
H=host-0000
OUT=$TOP/bench/out
mkdir -p "$OUT"
case $ENIS in
    100000) args="--vpcs 10000 --enis 100000 --hosts 1000" ;;
    *) args="--vpcs $((ENIS / 10)) --enis $ENIS --hosts $((ENIS / 100))" ;;
esac
R=$OUT/region-db-$ENIS.json
RDB=$TEST_DIR/rdb
cleanup() {
    kill "$WATCHDOG" 2>/dev/null
    sleep 0.1; pid_stop "$TEST_DIR/watchdog.pid"
    pid_stop "$RDB/regiond.pid"
    pid_stop "$RDB/region.pid"
    ovs_stop_all
}
trap 'cleanup; exit 143' INT TERM
# The watchdog: a run that hangs is stopped (its daemons by pid file).
( sleep "${BENCH_DB_TIMEOUT:-1800}" & echo $! > "$TEST_DIR/watchdog.pid"
  wait; kill -TERM $$ ) >/dev/null 2>&1 &
WATCHDOG=$!
ms() { echo $(( ($2 - $1) / 1000000 )); }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
rss() { awk '/^(VmRSS|VmHWM)/ {printf "%s %s kB  ", $1, $2}' "/proc/$1/status"; }

echo "== bench-db: $ENIS ENIs ($args), host $H, $CHANGES changes, mapping $VPC_MAPPING"
echo "machine: nproc $(nproc), $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1); load $(load_avg)"
[ -s "$R" ] || python3 "$TOP/bench/gen-region.py" $args --seed 1 --out "$R"
echo "document: $(stat -c %s "$R") bytes"

regiondb_start "$RDB"
t0=$(date +%s%N)
"$VPCCTL" --region-db="$REGION_DB" load "$R" || { cleanup; exit 1; }
t1=$(date +%s%N)
echo "load into the database: $(ms "$t0" "$t1") ms (load $(load_avg))"
echo "ovsdb-server: $(rss "$(cat "$RDB/region.pid")")"
cfg=$(ovsdb-client transact "$REGION_DB" '["OVS_VPC_Region",{"op":"select","table":"Region","where":[],"columns":["cfg"]}]' | jq '.[0].rows[0].cfg')

# The host: br-int, the Geneve port, host-0000's ENIs on dummy ports.
ul=$(jq -r --arg h $H '.hosts[] | select(.id == $h) | .underlay_ip' "$R")
ovs_start $H; sandbox_host $H "$ul"
bind=() i=1
for eni in $(jq -r --arg h $H '.enis[] | select(.host == $h) | .id' "$R"); do
    bind+=(-- add-port br-int "p$i" -- set interface "p$i" type=dummy \
           ofport_request=$i external_ids:vpc-eni-id="$eni")
    i=$((i + 1))
done
vsctl_on $H "${bind[@]}"
echo "host $H: $((i - 1)) local ENIs bound"

t0=$(date +%s%N)
vpcd_start $H "" --region-db="$REGION_DB" || { cleanup; exit 1; }
for _ in $(seq 6000); do
    s=$(vpcd_status $H "(.in_sync and .region_db.applied_cfg == $cfg)")
    [ "$s" = true ] && break
    sleep 0.05
done
t1=$(date +%s%N)
[ "$s" = true ] || { echo "vpcd did not converge"; cleanup; exit 1; }
VPCD_PID=$(vpcd_pid $H)
echo "first convergence (vpcd start to cfg $cfg applied, in sync): $(ms "$t0" "$t1") ms (load $(load_avg))"
vpcd_status $H '.region_db | "scope: \(.scope | split(" ") | length) VPCs; replica: \(.tables.ENI.rows) ENIs, \(.tables.Security_Group.rows) SGs, \(.tables.VPC.rows) VPCs"'
echo "vpcd after convergence: $(rss "$VPCD_PID"), $(vpcd_status $H .flows) flows"

regiond=$TOP/build/vpc-regiond
"$regiond" --region-db="$REGION_DB" --listen="punix:$RDB/regiond.sock" \
    --pidfile="$RDB/regiond.pid" --log-file="$RDB/regiond.log" \
    --detach --no-chdir -vconsole:off ${REGIOND_ARGS:-} 2>>"$RDB/stderr.log" \
    || { cleanup; exit 1; }
for _ in $(seq 100); do [ -S "$RDB/regiond.sock" ] && break; sleep 0.1; done
for _ in $(seq 600); do
    curl -s --unix-socket "$RDB/regiond.sock" http://regiond/v1/status \
        | jq -e ".connected and .cfg == $cfg" >/dev/null 2>&1 && break
    sleep 0.1
done

echo "changes: load before $(load_avg)"
python3 "$TOP/bench/db_changes.py" "$R" $H "$CHANGES" "$RDB/regiond.sock" \
    "$RDB/region.sock" "http://127.0.0.1:${VPCD_PORT[$H]}" \
    "$OUT/bench-db-$ENIS-changes.json" | tee "$OUT/bench-db-$ENIS.json"
rc=${PIPESTATUS[0]}
echo "changes: load after $(load_avg)"
echo "vpcd after the changes: $(rss "$VPCD_PID"), $(vpcd_status $H .flows) flows"
vpcd_status $H '.region_db | "vpcd totals: updates=\(.updates) recomputes=\(.scope_recomputes) incremental=\(.incremental_changes) change_ms p50=\(.change_ms_p50) p99=\(.change_ms_p99)"'
[ -n "${REGIOND_ARGS:-}" ] && cp "$RDB/regiond.log" "$OUT/bench-db-$ENIS-regiond.log"
cleanup
rm -rf "$TEST_DIR"
exit "$rc"

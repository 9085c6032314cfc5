#!/usr/bin/env bash
# bench/bench-scale.sh: fan-out of the region database to many hosts
# (issue 13, "Scale"; docs/benchmarks.md, "bench-scale").
#
# A synthetic region (bench/gen-region.py: ENIS ENIs, ENIS/10 VPCs, AGENTS
# hosts) is loaded into a Raft cluster of MEMBERS ovsdb-servers; RELAYS
# relay servers follow it; AGENTS simulated hosts (vpcd --no-switch, one
# per host of the region, spread round-robin over the relays) follow the
# relays.  bench/scale_driver.py starts the agents and measures: sync,
# propagation of CHANGES security-group rule adds in VPCs on HOSTS_PER_VPC
# hosts (commit to the last affected host's acknowledgement), updates
# received by unaffected hosts, the sustained write rate (RATES, writes per
# second, STEP_S seconds each), a mass reconnect (every relay restarted),
# CPU and memory.  Results on stdout and in bench/out/scale-AGENTS-ENIS.json.
#
# Parameters (environment): AGENTS (1000), ENIS (100000), HOSTS_PER_VPC
# (10), RELAYS (AGENTS/250, at least 1), MEMBERS (3), CHANGES (200), RATES
# ("2 5 10 20 40 80"), STEP_S (10), VPC_MAPPING (action), PORT_BASE (HTTP
# ports PORT_BASE.., default 30000), PROP_BUDGET_S (stop the propagation
# phase after so many seconds, default none; "RATES=" skips the rate
# steps), BENCH_SCALE_TIMEOUT (s, 3600), KEEP
# (keep the logs).
# Before starting it checks that the agents and servers fit in the memory
# available (AGENT_MIB per agent, 10: an agent's private memory at 100,000
# ENIs, its RSS is ~15 MiB with the shared binary; SERVER_MIB per member or
# relay, 1200), and a guard stops the run if MemAvailable falls below
# MIN_FREE_MIB (1024): the machine is shared.
# Every daemon it starts is stopped by its pid file, also when interrupted.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MAPPING=${VPC_MAPPING:-action}          # Before lib.sh's default (flows).
. "$TOP/tests/lib.sh"
AGENTS=${AGENTS:-1000}
ENIS=${ENIS:-100000}
HOSTS_PER_VPC=${HOSTS_PER_VPC:-10}
RELAYS=${RELAYS:-$(( AGENTS / 250 > 0 ? AGENTS / 250 : 1 ))}
MEMBERS=${MEMBERS:-3}
CHANGES=${CHANGES:-200}
RATES=${RATES-2 5 10 20 40 80}
STEP_S=${STEP_S:-10}
PORT_BASE=${PORT_BASE:-30000}
AGENT_MIB=${AGENT_MIB:-10}
SERVER_MIB=${SERVER_MIB:-1200}
VPCD=$TOP/build/vpcd
OUT=$TOP/bench/out
D=$TEST_DIR
mkdir -p "$OUT" "$D/agents" "$D/run"
DRIVER=
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

cleanup() {
    [ -n "${DRIVER:-}" ] && kill "$DRIVER" 2>/dev/null && wait "$DRIVER"
    kill "$WATCHDOG" "$MEMGUARD" 2>/dev/null
    pid_stop "$D/watchdog.pid"
    # The agents: TERM to all first, then wait for each (pid files).
    local p pids=()
    for p in "$D"/agents/*.pid; do
        [ -f "$p" ] && pids+=("$(cat "$p")")
    done
    [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
    for p in "$D"/agents/*.pid; do [ -f "$p" ] && pid_stop "$p"; done
    pid_stop "$D/regiond.pid"
    regiondb_cluster_stop "$D" "$MEMBERS"
}
trap 'cleanup; exit 143' INT TERM
( sleep "${BENCH_SCALE_TIMEOUT:-3600}" & echo $! > "$D/watchdog.pid"
  wait; kill -TERM $$ ) >/dev/null 2>&1 &
WATCHDOG=$!
# The memory guard: the machine is shared; stop before the OOM killer picks.
( while sleep 2; do
      a=$(awk '/^MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
      if [ "$a" -lt "${MIN_FREE_MIB:-1024}" ]; then
          echo "bench-scale: only $a MiB available: stopping" >&2
          kill -TERM $$; exit
      fi
  done ) &
MEMGUARD=$!

need=$(( AGENTS * AGENT_MIB + (MEMBERS + RELAYS) * SERVER_MIB ))
avail=$(( $(awk '/^MemAvailable/ {print $2}' /proc/meminfo) / 1024 ))
echo "== bench-scale: $AGENTS agents, $ENIS ENIs, $MEMBERS members, $RELAYS relays, $CHANGES changes, VPCs on $HOSTS_PER_VPC hosts, mapping $MAPPING"
echo "machine: nproc $(nproc), $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1), $(( $(awk '/^MemTotal/ {print $2}' /proc/meminfo) / 1024 )) MiB; available $avail MiB; load $(load_avg)"
if [ "$need" -gt "$avail" ]; then
    echo "bench-scale: needs about $need MiB ($AGENT_MIB per agent, $SERVER_MIB per server), $avail available: fewer AGENTS or RELAYS"
    cleanup; exit 1
fi
if [ "$(ulimit -n)" -lt $(( AGENTS * 2 + 256 )) ]; then
    ulimit -n $(( AGENTS * 2 + 256 )) 2>/dev/null \
        || { echo "bench-scale: ulimit -n too low for $AGENTS agents"; cleanup; exit 1; }
fi

R=$OUT/region-scale-$ENIS-$AGENTS.json
[ -s "$R" ] || python3 "$TOP/bench/gen-region.py" --vpcs $((ENIS / 10)) \
    --enis "$ENIS" --hosts "$AGENTS" --seed 1 --out "$R" || { cleanup; exit 1; }
echo "document: $(stat -c %s "$R") bytes ($R)"

# The cluster starts from a database that already holds the region: one
# 180,000-row transaction through Raft takes longer than a writer's 60 s
# timeout on this machine, and the benchmark is about what follows.  So
# the region is loaded into a standalone server (vpcctl load, timed), and
# member 1 is created from that file (ovsdb-tool create-cluster DB
# CONTENTS), as regiondb_cluster_start (tests/lib.sh) does from the schema.
t0=$(date +%s%N)
regiondb_start "$D/load"
"$VPCCTL" --region-db="$REGION_DB" load "$R" > "$D/load.txt" 2>&1 \
    || { cat "$D/load.txt"; cleanup; exit 1; }
pid_stop "$D/load/region.pid"
t1=$(date +%s%N)
ovsdb-tool create-cluster "$D/s1.db" "$D/load/region.db" "unix:$D/s1.raft" \
    2>>"$D/stderr.log"
for i in $(seq 2 "$MEMBERS"); do
    ovsdb-tool join-cluster "$D/s$i.db" OVS_VPC_Region \
        "unix:$D/s$i.raft" "unix:$D/s1.raft"
done
remotes=()
for i in $(seq "$MEMBERS"); do
    ovsdb-server "$D/s$i.db" --remote="punix:$D/s$i.sock" \
        --pidfile="$D/s$i.pid" --unixctl="$D/s$i.ctl" \
        --log-file="$D/s$i.log" -vconsole:off --detach --no-chdir \
        2>>"$D/stderr.log" || { cleanup; exit 1; }
    remotes+=("unix:$D/s$i.sock")
done
for i in $(seq "$MEMBERS"); do
    ovsdb-client --timeout=300 wait "unix:$D/s$i.sock" OVS_VPC_Region \
        connected 2>>"$D/stderr.log" || { echo "member $i did not join"; cleanup; exit 1; }
done
MEMBERS_DB=$(IFS=,; echo "${remotes[*]}")
t2=$(date +%s%N)
echo "region loaded (standalone, $(tail -1 "$D/load.txt" | grep -o 'cfg [0-9]*, [0-9]* rows')) in $(( (t1 - t0) / 1000000 )) ms; cluster of $MEMBERS from it in $(( (t2 - t1) / 1000000 )) ms (load $(load_avg))"

relays=()
for i in $(seq "$RELAYS"); do
    relays+=("$(regiondb_relay_start "$D" "$i" "$MEMBERS_DB")") \
        || { cleanup; exit 1; }
done
echo "relays: ${relays[*]}"
# The relays' restart, for the mass reconnect: stop all, start all.
{
    echo ". '$TOP/tests/lib.sh' >/dev/null; TEST_DIR='$D'"
    for i in $(seq "$RELAYS"); do echo "pid_stop '$D/relay-$i.pid'"; done
    for i in $(seq "$RELAYS"); do
        echo "regiondb_relay_start '$D' $i '$MEMBERS_DB' >/dev/null &"
    done
    echo "wait"
} > "$D/restart-relays.sh"

"$TOP/build/vpc-regiond" --region-db="$MEMBERS_DB" \
    --listen="punix:$D/regiond.sock" --pidfile="$D/regiond.pid" \
    --log-file="$D/regiond.log" --detach --no-chdir -vconsole:off \
    2>>"$D/stderr.log" || { cleanup; exit 1; }
for _ in $(seq 100); do [ -S "$D/regiond.sock" ] && break; sleep 0.1; done

# The agents' command lines (the driver starts them).
python3 - "$R" "$AGENTS" "$RELAYS" "$PORT_BASE" "$D" "$VPCD" "$MAPPING" \
    "$MEMBERS" "$CHANGES" "$HOSTS_PER_VPC" "$STEP_S" "$RATES" \
    "$OUT/scale-$AGENTS-$ENIS.json" "${PROP_BUDGET_S:-0}" > "$D/config.json" <<'EOF' || { cleanup; exit 1; }
import json, sys
(region, n, relays, base, d, vpcd, mapping, members, changes, hpv, step_s,
 rates, out, budget) = sys.argv[1:]
doc = json.load(open(region))
hosts = [h["id"] for h in doc["hosts"]][:int(n)]
cfg = {"region": region, "agents": {}, "agent_cmds": {},
       "member_pids": ["%s/s%d.pid" % (d, i)
                       for i in range(1, int(members) + 1)],
       "relay_pids": ["%s/relay-%d.pid" % (d, i)
                      for i in range(1, int(relays) + 1)],
       "monitor_sock": "%s/s1.sock" % d,
       "regiond": "%s/regiond.sock" % d, "regiond_pid": "%s/regiond.pid" % d,
       "restart_relays": "bash %s/restart-relays.sh" % d,
       "changes": int(changes), "hosts_per_vpc": int(hpv),
       "rates": [float(x) for x in rates.split()], "step_s": float(step_s),
       "out": out, "prop_budget_s": float(budget)}
for i, h in enumerate(hosts):
    port = int(base) + i
    pid = "%s/agents/%s.pid" % (d, h)
    cfg["agents"][h] = [port, pid]
    cfg["agent_cmds"][h] = [
        vpcd, "--no-switch", "--host=" + h,
        "--region-db=unix:%s/relay-%d.sock" % (d, i % int(relays) + 1),
        "--mapping=" + mapping, "--state-dir=none", "--run-dir=%s/run" % d,
        "--db=unix:%s/no-ovs.sock" % d,
        "--unixctl=%s/agents/%s.ctl" % (d, h),
        "--http=127.0.0.1:%d" % port, "--pidfile=" + pid,
        "--log-file=%s/agents/%s.log" % (d, h), "-vconsole:off",
        "-vfile:info", "--detach", "--no-chdir"]
json.dump(cfg, sys.stdout)
EOF

echo "agents: $AGENTS simulated hosts (vpcd --no-switch) over $RELAYS relays; load $(load_avg)"
# In the background: 'wait' returns on a signal, so the trap runs at once.
python3 "$TOP/bench/scale_driver.py" "$D/config.json" &
DRIVER=$!
wait "$DRIVER"
rc=$?
DRIVER=
echo "load after: $(load_avg)"
cleanup
if [ "$rc" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "logs in $D"; fi
exit "$rc"

#!/bin/bash
# bench/bench-imds.sh: instance metadata benchmarks (docs/benchmarks.md,
# "Instance metadata").  Run by "make bench-imds" after "make"; needs root
# (network namespaces).  Real TCP through the userspace (netdev) OVS of the
# netns lab (tests/netns/lab.sh): host-a with the metadata service port,
# vpcd --metadata=169.254.169.254:80, two VMs (red, blue) of
# examples/overlapping-ips.json (same private IP, different VPCs).  The
# load is bench/imds-load.py in the VMs (keep-alive HTTP/1.1, IMDSv2
# token).  Prints numbers; asserts nothing about time.
#
# Part A, throughput and latency: vpcd run with --metadata-rate=1000000 (no
# per-ENI limit in the way), red alone, GET instance-id with its token,
# 1 and 4 connections, SECS seconds, RUNS rounds: requests/s, p50/p99, and
# vpcd's CPU (utime+stime over the run / wall time).
#
# Part B, the per-ENI rate limit under a flood: vpcd with the default
# limit (100/s, bursts of 200); blue floods (4 connections, as fast as it
# can), red asks 20 times a second; red's answers (all 200?) and latency,
# blue's 200s and 429s.
set -u
. "$(dirname "$0")/../tests/netns/lab.sh"
. "$TOP/tests/vpcd-lib.sh"
SECS=${SECS:-5}
RUNS=${RUNS:-3}
OUT=$TOP/bench/out
mkdir -p "$OUT"
lab_require
LOAD=$TOP/bench/imds-load.py

lab_host host-a 192.168.100.1
lab_vm host-a red  eni-red-a  02:00:00:01:01:0a 10.0.1.10/24 10.0.1.1
lab_vm host-a blue eni-blue-a 02:00:00:02:01:0a 10.0.1.10/24 10.0.1.1
lab_metadata_port host-a
cp "$TOP/examples/overlapping-ips.json" "$TEST_DIR/region.json"

# start_vpcd ARGS...: vpcd with the region, in sync.
start_vpcd() {
    vpcd_start host-a "$(lab_ns host-a)" --metadata=169.254.169.254:80 "$@"
    vpcd_http host-a PUT /v1/intents "$TEST_DIR/region.json" >/dev/null
    vpcd_wait host-a '.in_sync and .metadata.service_port > 0' 10 \
        || { echo "vpcd did not converge"; exit 1; }
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$(vpcd_pid host-a)/stat"; }
HZ=$(getconf CLK_TCK)

echo "machine: $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Part A: throughput (no per-ENI limit), $RUNS x $SECS s"
start_vpcd --metadata-rate=1000000
for conns in 1 4; do
    for run in $(seq "$RUNS"); do
        c0=$(cpu_ticks); t0=$(date +%s%N)
        res=$(lab_in red python3 "$LOAD" --conns "$conns" --seconds "$SECS")
        c1=$(cpu_ticks); t1=$(date +%s%N)
        cpu=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v ns=$((t1 - t0)) \
              'BEGIN { printf "%.0f", 100 * c / hz / (ns / 1e9) }')
        echo "  conns=$conns run=$run $res vpcd_cpu=${cpu}% load=$(cut -d' ' -f1 /proc/loadavg)"
    done
done | tee "$OUT/imds-throughput.txt"
vpcd_kill host-a
VPCD_PORT=()

echo "Part B: blue floods (4 connections), red asks 20/s, default limit, $SECS s"
start_vpcd
lab_in blue python3 "$LOAD" --conns 4 --seconds "$SECS" --no-token \
    > "$TEST_DIR/blue.json" &
flood=$!
res=$(lab_in red python3 "$LOAD" --conns 1 --rate 20 --seconds "$SECS")
wait "$flood"
{
    echo "  red (20/s):  $res"
    echo "  blue (flood): $(cat "$TEST_DIR/blue.json")"
    vpcd_nsexec host-a curl -s "http://127.0.0.1:${VPCD_PORT[host-a]}/metrics" \
        | grep '^vpcd_imds_' | sed 's/^/  /'
} | tee "$OUT/imds-flood.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

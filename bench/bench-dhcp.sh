#!/bin/bash
# bench/bench-dhcp.sh: DHCP exchanges through vpcd's packet-in controller
# (docs/benchmarks.md, "Host services: DHCP").  Run by "make bench-services"
# after "make"; needs root (network namespaces).  Real packets through the
# userspace (netdev) OVS of the netns lab (tests/netns/lab.sh),
# examples/web-tier.json on host-a with vpcd, flows mapping.  Prints numbers;
# asserts nothing about time (a benchmark, not a test).
#
# A. vpcd's rate limits raised out of the way (--pinctrl-rate and the
#    per-ENI DHCP bucket at 1,000,000): bench/dhcp_client.py in web-a's
#    namespace sends N DISCOVERs (AF_PACKET) and times each OFFER: one at a
#    time (latency p50/p99), then WINDOW outstanding (exchanges per second).
#    vpcd's CPU (utime+stime from /proc) over each run.
# B. The defaults: client-a floods DISCOVERs for FLOOD_SECS seconds while
#    web-a does one-at-a-time exchanges: web-a's latency and losses under
#    the flood, what the flooder got answered, and vpcd's rate-limit drops.
#
# Environment: N (2000), WINDOW (32), FLOOD_SECS (5).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TOP/tests/netns/lab.sh"
. "$TOP/tests/vpcd-lib.sh"
N=${N:-2000}
WINDOW=${WINDOW:-32}
FLOOD_SECS=${FLOOD_SECS:-5}
CLIENT=$TOP/bench/dhcp_client.py
EX=$TOP/examples/web-tier.json
VPC_MAPPING=flows
lab_require

lab_host host-a 192.168.100.1
lab_vm host-a web-a    eni-web-a    02:00:00:10:01:0a 10.10.1.10/24 10.10.1.1
lab_vm host-a client-a eni-client-a 02:00:00:10:01:14 10.10.1.20/24 10.10.1.1

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$(vpcd_pid host-a)/stat"; }
hz=$(getconf CLK_TCK)
# run NAME CLIENT-ARGS...: one client run in web-a, with vpcd's CPU.
run() {
    local c0 c1 out
    c0=$(cpu_ticks)
    out=$(lab_in web-a python3 "$CLIENT" eth0 02:00:00:10:01:0a "${@:2}")
    c1=$(cpu_ticks)
    echo "  $1: $out, vpcd cpu $(awk -v t=$((c1 - c0)) -v hz="$hz" \
        'BEGIN { printf "%.2f s", t / hz }')"
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
echo "A. limits out of the way"
vpcd_start host-a "$(lab_ns host-a)" --intents="$EX" --pinctrl-rate=1000000 \
    --pinctrl-burst=1000000 --dhcp-eni-rate=1000000 --dhcp-eni-burst=1000000
vpcd_wait host-a '.in_sync and .services.connected' 10 || { echo "vpcd not ready" >&2; exit 1; }
run "one at a time, $N exchanges" "$N" 1
run "$WINDOW outstanding, $N exchanges" "$N" "$WINDOW"
vpcd_kill host-a

echo "B. default limits, client-a floods for $FLOOD_SECS s"
vpcd_start host-a "$(lab_ns host-a)" --intents="$EX"
vpcd_wait host-a '.in_sync and .services.connected' 10 || { echo "vpcd not ready" >&2; exit 1; }
d0=$(vpcd_status host-a .services.dropped.rate_limit)
lab_bg client-a python3 "$CLIENT" eth0 02:00:00:10:01:14 "$FLOOD_SECS" 1 1 \
    > "$TEST_DIR/flood.json"
flood_pid=$LAB_LAST_PID
sleep 0.5
# web-a: 20 exchanges back to back, within its own bucket's burst (40).
run "web-a during the flood, 20 exchanges one at a time" 20 1
for i in $(seq 100); do kill -0 "$flood_pid" 2>/dev/null || break; sleep 0.1; done
echo "  client-a (flooding): $(cat "$TEST_DIR/flood.json")"
echo "  vpcd rate-limit drops: $((${d0:-0})) -> $(vpcd_status host-a .services.dropped.rate_limit)"

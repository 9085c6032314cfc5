#!/bin/bash
# bench/bench-dns.sh: queries to the VPC resolver through vpcd's packet-in
# controller (docs/benchmarks.md, "Host services: DNS").  Run by "make
# bench-services" after "make"; needs root (network namespaces).  Real
# packets through the userspace (netdev) OVS of the netns lab
# (tests/netns/lab.sh), examples/web-tier.json on host-a with vpcd, flows
# mapping.  Prints numbers; asserts nothing about time.
#
# A. vpcd's rate limits raised out of the way: bench/dns_client.py in
#    web-a's namespace asks the subnet's +2 address for client-a's private
#    hostname (answered by vpcd) N times, one at a time (latency p50/p99)
#    and then WINDOW outstanding (queries per second); then a name outside
#    the VPC, forwarded to an upstream (a Python responder on 127.0.0.1 in
#    host-a's namespace, so its own time is in the numbers).  vpcd's CPU
#    (utime+stime from /proc) over each run.
# B. The defaults (1,024 queries/s per ENI, as AWS's resolver): client-a
#    floods for FLOOD_SECS seconds while web-a asks one at a time: web-a's
#    latency and losses under the flood, what the flooder got answered,
#    and vpcd's rate-limit drops.
#
# Environment: N (5000), WINDOW (32), FLOOD_SECS (5).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TOP/tests/netns/lab.sh"
. "$TOP/tests/vpcd-lib.sh"
N=${N:-5000}
WINDOW=${WINDOW:-32}
FLOOD_SECS=${FLOOD_SECS:-5}
CLIENT=$TOP/bench/dns_client.py
EX=$TOP/examples/web-tier.json
VPC_MAPPING=flows
RESOLVER=10.10.1.2
LOCAL=ip-10-10-1-20.az-1.compute.internal
lab_require

lab_host host-a 192.168.100.1
lab_vm host-a web-a    eni-web-a    02:00:00:10:01:0a 10.10.1.10/24 10.10.1.1
lab_vm host-a client-a eni-client-a 02:00:00:10:01:14 10.10.1.20/24 10.10.1.1

# The upstream: NOERROR, A 198.51.100.7, for any name.
cat > "$TEST_DIR/upstream.py" <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5353))
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 17:
        continue
    i = 12
    while i < len(q) and q[i]:
        i += 1 + q[i]
    r = q[:2] + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0) + q[12:i + 5]
    r += struct.pack("!HHHIH4B", 0xc00c, 1, 1, 30, 4, 198, 51, 100, 7)
    s.sendto(r, peer)
PY
lab_bg host-a python3 "$TEST_DIR/upstream.py"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$(vpcd_pid host-a)/stat"; }
hz=$(getconf CLK_TCK)
# run NAME CLIENT-ARGS...: one client run in web-a, with vpcd's CPU.
run() {
    local c0 c1 out
    c0=$(cpu_ticks)
    out=$(lab_in web-a python3 "$CLIENT" "$RESOLVER" "${@:2}")
    c1=$(cpu_ticks)
    echo "  $1: $out, vpcd cpu $(awk -v t=$((c1 - c0)) -v hz="$hz" \
        'BEGIN { printf "%.2f s", t / hz }')"
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
echo "A. limits out of the way"
vpcd_start host-a "$(lab_ns host-a)" --intents="$EX" \
    --dns-upstream=127.0.0.1:5353 --pinctrl-rate=1000000 \
    --pinctrl-burst=1000000 --dns-eni-rate=1000000 --dns-eni-burst=1000000
vpcd_wait host-a '.in_sync and .services.connected' 10 \
    || { echo "vpcd not ready" >&2; exit 1; }
run "local name, one at a time, $N queries" "$LOCAL" "$N" 1
run "local name, $WINDOW outstanding, $N queries" "$LOCAL" "$N" "$WINDOW"
run "forwarded name, one at a time, $N queries" www.example.test "$N" 1
run "forwarded name, $WINDOW outstanding, $N queries" www.example.test \
    "$N" "$WINDOW"
vpcd_kill host-a

echo "B. default limits, client-a floods for $FLOOD_SECS s"
vpcd_start host-a "$(lab_ns host-a)" --intents="$EX"
vpcd_wait host-a '.in_sync and .services.connected' 10 \
    || { echo "vpcd not ready" >&2; exit 1; }
d0=$(vpcd_status host-a .services.dropped.rate_limit)
lab_bg client-a python3 "$CLIENT" "$RESOLVER" "$LOCAL" "$FLOOD_SECS" 1 1 \
    > "$TEST_DIR/flood.json"
flood_pid=$LAB_LAST_PID
sleep 0.5
run "web-a during the flood, 200 queries one at a time" "$LOCAL" 200 1
for i in $(seq 100); do kill -0 "$flood_pid" 2>/dev/null || break; sleep 0.1; done
echo "  client-a (flooding): $(cat "$TEST_DIR/flood.json")"
echo "  vpcd rate-limit drops: $((${d0:-0})) -> $(vpcd_status host-a .services.dropped.rate_limit)"

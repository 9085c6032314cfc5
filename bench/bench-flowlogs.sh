#!/bin/bash
# bench/bench-flowlogs.sh: the cost of flow logs (docs/benchmarks.md,
# section "Flow logs").  Run by "make bench-flowlogs" after "make"; needs
# root (network namespaces).  Real packets through the userspace (netdev)
# OVS of the netns lab (tests/netns/lab.sh).  Prints numbers; asserts
# nothing about time (a benchmark, not a test).
#
# examples/web-tier.json's client-a on host-a and web-b on host-b (Geneve
# between them), sg-web also allowing UDP 9 from the VPC, and a vpcd on
# each host (--mapping=$VPC_MAPPING, default action) as its IPFIX
# collector.  client-a's eth0 blasts raw UDP frames (bench/edge-load.py,
# 60 bytes, NFLOWS flows differing in the source port) to web-b:9 for SECS
# seconds, RUNS rounds, alternating:
#   off  the document without flow logs (the flows of a pipeline without
#        them, docs/flow-logs.md);
#   on   the same document with a flow log, traffic type ALL, on vpc-web:
#        every packet is sampled twice (sg_out of client-a on host-a, sg_in
#        of web-b on host-b), each sample a datapath userspace action that
#        the netdev datapath runs as an upcall in the forwarding thread,
#        where ovs-vswitchd's IPFIX exporter aggregates it; the vpcds
#        receive the exports.
# Delivered pps = packets counted on web-b's eth0 / blast time; also the
# offered rate, the CPU (utime + stime, all threads) per delivered packet
# of both ovs-vswitchd together and of both vpcd together.  Both
# ovs-vswitchd (every thread) on CPU 1, the generator on CPU 0, the vpcds
# unpinned.
#
# Part B, cycles per packet, the same comparison without the noise of
# veths and other processes: a sandboxed ovs-vswitchd (dummy datapath),
# client-a's port a "dummy-pmd" port polled by a PMD thread pinned to CPU 1
# (everything else on CPU 0), vpcd as the collector; PKTS_B packets
# (NFLOWS UDP flows) injected with netdev-dummy/receive toward web-b,
# remote (Geneve out of the dummy underlay), so each packet is sampled
# once (client-a's sg_out); the PMD's own "avg processing cycles per
# packet" (dpif-netdev/pmd-stats-show) after a warm-up; RUNS runs per
# mode, alternating; medians.
#
# Environment: SECS (5), RUNS (5), NFLOWS (16), PKTS_B (20000),
# VPC_MAPPING (action); SKIP="A B" skips parts.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
SECS=${SECS:-5}
RUNS=${RUNS:-5}
NFLOWS=${NFLOWS:-16}
PKTS_B=${PKTS_B:-20000}
SKIP=${SKIP:-}
skip_part() { case " $SKIP " in *" $1 "*) return 0;; esac; return 1; }
export VPC_MAPPING=${VPC_MAPPING:-action}
OUT=$TOP/bench/out
mkdir -p "$OUT"
LOAD=$TOP/bench/edge-load.py
PY=$(python3 -c 'import sys; print(sys.executable)')
export TEST_DIR
TEST_DIR=$(mktemp -d /tmp/ovs-vpc-bench-fl.XXXXXX)
# shellcheck source=../tests/netns/lab.sh
. "$TOP/tests/netns/lab.sh"
# shellcheck source=../tests/vpcd-lib.sh
. "$TOP/tests/vpcd-lib.sh"
trap 'lab_cleanup; rm -rf "$TEST_DIR"' EXIT
trap 'lab_cleanup; rm -rf "$TEST_DIR"; exit 130' INT TERM
lab_require

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
rxp() { lab_in "$1" cat "/sys/class/net/eth0/statistics/rx_packets"; }

echo "== flow-log benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) vCPUs," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
     "kernel $(uname -r), mapping $VPC_MAPPING"

EX=$TOP/examples/web-tier.json
jq '(.security_groups[] | select(.id == "sg-web") | .ingress) += [{"protocol": "udp", "from_port": 9, "to_port": 9, "cidr": "10.10.0.0/16"}]' \
    "$EX" > "$TEST_DIR/off.json"
jq '.flow_logs = [{"id": "fl-web", "resource": "vpc-web", "traffic_type": "ALL"}]' \
    "$TEST_DIR/off.json" > "$TEST_DIR/on.json"

declare -A PPS=() OFF=() USP=() VUS=()
if ! skip_part A; then
    lab_host host-a 192.168.100.1
    lab_host host-b 192.168.100.2
    lab_vm host-a client-a eni-client-a 02:00:00:10:01:14 10.10.1.20/24 10.10.1.1
    lab_vm host-b web-b    eni-web-b    02:00:00:10:01:0b 10.10.1.11/24 10.10.1.1
    lab_warm
    EPIDS=() VPIDS=()
    for h in host-a host-b; do
        vpcd_start $h "$(lab_ns $h)" --flow-log-dir="$TEST_DIR/fl-$h"
        EPIDS+=("$(cat "${OVS_DIR[$h]}/ovs-vswitchd.pid")")
        VPIDS+=("$(cat "${OVS_DIR[$h]}/vpcd.pid")")
    done
    RMAC=02:76:70:00:03:f2          # vpc-web's router MAC

    # use MODE: PUT MODE's document to both vpcds, wait until installed.
    use() {
        local cond='.in_sync' h
        [ "$1" = on ] && cond='.in_sync and .flow_logs.configured'
        [ "$1" = off ] && cond='.in_sync and (.flow_logs.configured | not)'
        for h in host-a host-b; do
            vpcd_http $h PUT /v1/intents "$TEST_DIR/$1.json" >/dev/null
            vpcd_wait $h "$cond" 10 || echo "   ($1: vpcd on $h did not converge)"
        done
    }
    # ticks_of PID...: their CPU ticks, summed.
    ticks_of() { local p t=0; for p in "$@"; do t=$((t + $(ticks "$p"))); done; echo $t; }

    # rate: one blast from client-a to web-b:9; sets R_* variables.
    rate() {
        local rx0 rx1 c0 c1 v0 v1 out
        rx0=$(rxp web-b); c0=$(ticks_of "${EPIDS[@]}"); v0=$(ticks_of "${VPIDS[@]}")
        out=$(lab_in client-a taskset -c 0 "$PY" "$LOAD" blast eth0 "${1:-$SECS}" \
            02:00:00:10:01:14 $RMAC 10.10.1.20 10.10.1.11 10000 9 "$NFLOWS" sport)
        sleep 0.3
        rx1=$(rxp web-b); c1=$(ticks_of "${EPIDS[@]}"); v1=$(ticks_of "${VPIDS[@]}")
        R_SENT=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$out")
        R_T=$(sed -n 's/.*secs=\([0-9.]*\).*/\1/p' <<<"$out")
        R_OFF=$(sed -n 's/.*pps=\([0-9]*\).*/\1/p' <<<"$out")
        R_GOT=$((rx1 - rx0))
        R_PPS=$(awk -v n="$R_GOT" -v t="$R_T" 'BEGIN { printf "%.0f", n / t }')
        R_US=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v n="$R_GOT" 'BEGIN { printf "%.2f", n ? 1e6 * c / hz / n : 0 }')
        R_VUS=$(awk -v c=$((v1 - v0)) -v hz="$HZ" -v n="$R_GOT" 'BEGIN { printf "%.3f", n ? 1e6 * c / hz / n : 0 }')
    }

    for p in "${EPIDS[@]}"; do taskset -a -p 2 "$p" >/dev/null; done

    for mode in off on; do
        use $mode
        rate 1
        echo "   warm-up $mode: $R_GOT of $R_SENT delivered"
    done
    for run in $(seq "$RUNS"); do
        order="off on"; [ $((run % 2)) = 0 ] && order="on off"
        for mode in $order; do
            use $mode
            rate
            echo "   run $run $mode: offered $R_OFF pps, delivered $R_GOT in ${R_T} s = $R_PPS pps;" \
                 "ovs-vswitchd $R_US us/packet, vpcd $R_VUS us/packet"
            PPS[$mode]="${PPS[$mode]:-} $R_PPS" OFF[$mode]="${OFF[$mode]:-} $R_OFF"
            USP[$mode]="${USP[$mode]:-} $R_US" VUS[$mode]="${VUS[$mode]:-} $R_VUS"
        done
    done
    for p in "${EPIDS[@]}"; do taskset -a -p 3 "$p" >/dev/null; done
    use on
    for h in host-a host-b; do
        vpcd_http $h GET /metrics >/dev/null
        grep -E '^vpcd_flow_log_(ipfix_messages|ipfix_records|records|dropped)_total' <<<"$VPCD_BODY" \
            | grep -v ' 0$' | sed "s/^/   $h: /"
    done
    # vpcd writes what is pending when it stops.
    vpcd_stop_all
    for h in host-a host-b; do
        f=$TEST_DIR/fl-$h/fl-web.log
        echo "   $h fl-web.log after vpcd stopped: $(($(wc -l < "$f") - 1)) records, e.g.:"
        sed -n '2,3p' "$f" | sed 's/^/     /'
    done
    lab_cleanup
fi

# ------------------------------------------------ B. cycles per packet
pmd_stat() {    # pmd_stat FILE PATTERN FIELD: a number of the PMD section
    awk -v p="$2" -v f="$3" '/^pmd thread/ { m = 1 } /^main thread/ { m = 0 }
        m && index($0, p) { print $f; exit }' "$1"
}
# inject N: N UDP packets from client-a to web-b:9 (NFLOWS source ports),
# 100 per netdev-dummy/receive call, from CPU 0.
inject() {
    awk -v c="$1" -v f="$NFLOWS" 'BEGIN { for (i = 0; i < c; i++)
        printf "eth(src=02:00:00:10:01:14,dst=02:76:70:00:03:f2),eth_type(0x0800),ipv4(src=10.10.1.20,dst=10.10.1.11,proto=17,tos=0,ttl=64,frag=no),udp(src=%d,dst=9)%s",
               10000 + i % f, ((i + 1) % 100 ? " " : "\n"); print "" }' \
    | while read -r line; do
        # shellcheck disable=SC2086
        [ -n "$line" ] && taskset -c 0 ovs-appctl -t "${OVS_DIR[host-a]}/ovs-vswitchd.ctl" \
            netdev-dummy/receive vm-client $line >/dev/null
    done
}
pmd_received() {
    appctl_on host-a dpif-netdev/pmd-stats-show | awk '/^pmd thread/ { m = 1 }
        /^main thread/ { m = 0 } m && /packets received:/ { print $3; exit }'
}
declare -A CPP=()
if ! skip_part B; then
    TSC_MHZ=$(awk -F': ' '/^cpu MHz/ { print $2 + 0; exit }' /proc/cpuinfo)
    echo "== B. cycles per packet: $PKTS_B packets client-a -> web-b (remote), $RUNS runs per mode," \
         "PMD on CPU 1 (cpu MHz $TSC_MHZ)"
    rm -rf "${TEST_DIR:?}/host-a"
    ovs_start host-a
    sandbox_host host-a 192.168.100.1
    vsctl_on host-a remove interface p0 options tx_pcap
    vsctl_on host-a add-port br-int vm-client -- set interface vm-client \
        type=dummy-pmd ofport_request=2 external_ids:vpc-eni-id=eni-client-a
    taskset -a -p 1 "$(cat "${OVS_DIR[host-a]}/ovs-vswitchd.pid")" >/dev/null
    vsctl_on host-a set Open_vSwitch . other_config:pmd-cpu-mask=0x2
    vpcd_start host-a "" --flow-log-dir="$TEST_DIR/fl-b"
    for run in $(seq "$RUNS"); do
        order="off on"; [ $((run % 2)) = 0 ] && order="on off"
        for mode in $order; do
            vpcd_http host-a PUT /v1/intents "$TEST_DIR/$mode.json" >/dev/null
            cond='.in_sync and (.flow_logs.configured | not)'
            [ $mode = on ] && cond='.in_sync and .flow_logs.configured'
            vpcd_wait host-a "$cond" 10 || echo "   ($mode: vpcd did not converge)"
            inject 2000                 # warm-up: upcalls, megaflows
            sleep 1
            appctl_on host-a dpif-netdev/pmd-stats-clear >/dev/null
            inject "$PKTS_B"
            last=-1
            for _ in $(seq 60); do
                sleep 0.5; cur=$(pmd_received); [ "$cur" = "$last" ] && break; last=$cur
            done
            appctl_on host-a dpif-netdev/pmd-stats-show > "$OUT/fl-pmd-$mode.txt"
            cpp=$(pmd_stat "$OUT/fl-pmd-$mode.txt" "avg processing cycles per packet:" 6)
            echo "   run $run $mode: $cur packets received by the PMD, avg processing cycles/packet $cpp" \
                 "(= $(awk -v m="$TSC_MHZ" -v c="$cpp" 'BEGIN { printf "%.3f", c ? m / c : 0 }') Mpps of one core)"
            CPP[$mode]="${CPP[$mode]:-} $cpp"
        done
    done
    appctl_on host-a dpctl/dump-flows | grep -c flow_sample | sed 's/^/   datapath flows with a flow_sample action (on, at the end): /'
    vpcd_http host-a GET /metrics >/dev/null
    grep -E '^vpcd_flow_log_(ipfix_messages|ipfix_records|records|dropped)_total' <<<"$VPCD_BODY" \
        | grep -v ' 0$' | sed "s/^/   vpcd: /"
    vpcd_stop_all
    ovs_stop_all
fi

if [ ${#PPS[@]} -gt 0 ]; then
echo
echo "## Flow logs: pps client-a (host-a) -> web-b (host-b), medians of $RUNS"
echo
echo "| flow logs | offered (pps) | delivered (pps) | vs off | both ovs-vswitchd (us/packet) | both vpcd (us/packet) |"
echo "|---|---|---|---|---|---|"
off_pps=$(median ${PPS[off]:-0})
for mode in off on; do
    # shellcheck disable=SC2086
    p=$(median ${PPS[$mode]})
    echo "| $mode | $(median ${OFF[$mode]}) | $p | $(awk -v a="$p" -v b="$off_pps" 'BEGIN { printf "%.2f", b ? a / b : 0 }') |" \
         "$(median ${USP[$mode]}) | $(median ${VUS[$mode]}) |"
done
fi
if [ ${#CPP[@]} -gt 0 ]; then
    off_c=$(median ${CPP[off]})
    echo
    echo "## Flow logs: PMD cycles per packet, client-a -> web-b (remote), medians of $RUNS"
    echo
    echo "| flow logs | cycles/packet | vs off | Mpps of one core |"
    echo "|---|---|---|---|"
    for mode in off on; do
        # shellcheck disable=SC2086
        c=$(median ${CPP[$mode]})
        echo "| $mode | $c | $(awk -v a="$c" -v b="$off_c" 'BEGIN { printf "%.2f", b ? a / b : 0 }') |" \
             "$(awk -v m="$TSC_MHZ" -v c="$c" 'BEGIN { printf "%.3f", c ? m / c : 0 }') |"
    done
fi

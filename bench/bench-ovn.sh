#!/bin/bash
# bench/bench-ovn.sh: ovs-vpc vs OVN, side by side, same machine, same
# intents, same OVS build (docs/benchmarks.md, section "ovs-vpc vs OVN").
# Run by "make bench-ovn" after "make".  Prints numbers; asserts nothing
# about time (a benchmark, not a test).
#
# For each region size N in SIZES (ENIs; gen-region.py with N/10 VPCs and
# N/100 hosts, seed 1, so the measured host host-0000 holds ~100 ENIs):
#
#   ours  1. vpcctl compile --host host-0000 (action and flows mapping):
#            time, peak RSS, flows;
#         2. vpcctl apply into a sandboxed ovs-vswitchd (tests/lib.sh, dummy
#            datapath, host-0000's ENIs plugged), per mode: time, flows in
#            br-int, RSS of ovs-vswitchd and its ovsdb-server;
#         3. vpcd (action mode) in a fresh sandbox: PUT of the region until
#            200 "installed" (convergence); then ADDS rounds of PUT with one
#            more ENI on host-0000 (bench/put_latency.py, one vpcd); RSS.
#   OVN   NB and SB ovsdb-servers (build/ovs, OVN 23.03 schemas, unix
#         sockets), ovn-northd, and host-0000 as the one real chassis:
#         sandboxed ovs-vswitchd + ovn-controller (build/ovn-host, fetched by
#         bench.mk), host-0000's ENIs plugged with external_ids:iface-id.
#         Every other host is a Chassis + Geneve Encap row in SB (no
#         Chassis_Private: northd leaves such chassis out of --wait=hv).
#         Then, timed from t0: `vpcctl export-ovn` loaded as one NB
#         transaction; `ovn-nbctl --wait=sb sync`; Port_Binding.chassis of
#         every remote ENI set to its host's chassis in one SB transaction
#         (what the remote controllers would do); `ovn-nbctl --wait=hv
#         sync`; then br-int's flow count polled every 0.5 s until it has
#         not changed for STABLE (5) s.  Convergence = when the final count
#         was first seen (or --wait=hv returned, if later).  Capped at
#         OVN_MAX (600) s per size: "did not converge" is a result.
#         Add one ENI: plug its interface first, then one NB transaction
#         (LSP + switch ports + port groups + address sets) and
#         `ovn-nbctl --wait=hv sync`; ADDS rounds, median.  RSS of NB, SB,
#         northd, ovn-controller, ovs-vswitchd and its ovsdb-server.
#
# Then, once (bench/remote-region.py: one VPC, eni-src on host-a and 1,000
# remote ENIs on 200 hosts; the region of bench-ovs-ext.sh part 2/3), for
# ours (action mode, and flows mode) and OVN, each in a fresh sandbox:
#   megaflows: 1,000 ICMP packets from eni-src to the 1,000 remote ENIs
#         (netdev-dummy/receive), then `dpctl/dump-flows | wc -l`;
#   pps:  eni-src as a dummy-pmd port polled by a PMD pinned to CPU 1,
#         PPS_ROUNDS x 1,000 packets after a warm-up, the PMD's "avg
#         processing cycles per packet" -> packets/s of one core at the TSC
#         rate (the method of bench-ovs-ext.sh part 3); PPS_RUNS runs.
#
# Results: bench/out/bench-ovn.tsv (SIZE SYSTEM METRIC VALUE), a Markdown
# table on stdout (bench/ovn/report.py), docs/bench-ovn.svg if gnuplot is
# there (bench/ovn/plot.gp).  Every process is stopped by its pid file.
#
# Memory guard: OVN at 100,000 ENIs wants more than this machine's 23 GiB
# (SB ovsdb-server and ovn-northd ~11 GB each), and the machine is shared,
# so while OVN runs a watchdog samples its processes' memory every second
# and, if MemAvailable drops under MEM_MIN_MB (3072), stops OVN's daemons
# (by pid file): recorded as "stopped by the memory guard".
#
# Environment: SIZES ("1000 10000 100000"; "" for none), MEM_MIN_MB, ADDS (5), OVN_MAX (600),
# STABLE (5), PPS_ROUNDS (10), PPS_RUNS (3), SKIP ("ours ovn mf pps" parts
# to skip), OVN_CONTROLLER (build/ovn-host/usr/bin/ovn-controller).
set -eu
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
BIN=$TOP/build/vpcctl
VPCD=$TOP/build/vpcd
OVNC=${OVN_CONTROLLER:-$TOP/build/ovn-host/usr/bin/ovn-controller}
SIZES=${SIZES-1000 10000 100000}
ADDS=${ADDS:-5}
OVN_MAX=${OVN_MAX:-600}
STABLE=${STABLE:-5}
PPS_ROUNDS=${PPS_ROUNDS:-10}
PPS_RUNS=${PPS_RUNS:-3}
SKIP=${SKIP:-}
OUT=$TOP/bench/out
RES=$OUT/bench-ovn.tsv
HOST=host-0000
mkdir -p "$OUT"
for b in "$BIN" "$VPCD" "$OVNC"; do
    [ -x "$b" ] || { echo "bench-ovn: $b missing; run make bench-ovn" >&2; exit 1; }
done
for f in /usr/share/ovn/ovn-nb.ovsschema /usr/share/ovn/ovn-sb.ovsschema; do
    [ -f "$f" ] || { echo "bench-ovn: $f missing (ovn-central)" >&2; exit 1; }
done

export TEST_DIR
TEST_DIR=$(mktemp -d /tmp/ovs-vpc-bench-ovn.XXXXXX)
# shellcheck source=../tests/lib.sh
. "$TOP/tests/lib.sh"
set -e
OVN_D=$TEST_DIR/ovn          # NB, SB, northd
OVN_PIDS="nb sb northd"
# Stops what this script started, by pid file: OVN's daemons, the
# sandboxes' ovn-controller / vpcd, then the sandboxes (tests/lib.sh).
stop_all() {
    local n d p
    for n in "${!OVS_DIR[@]}"; do
        d=${OVS_DIR[$n]}
        for p in ovn-controller vpcd; do stop_pid "$d/$p.pid"; done
    done
    ovs_stop_all
    for p in $OVN_PIDS; do stop_pid "$OVN_D/$p.pid"; done
    rm -rf "$OVN_D"
}
stop_pid() {    # stop_pid FILE: TERM the pid in FILE, wait up to 10 s, KILL.
    local pid i
    pid=$(cat "$1" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$1"
}
trap 'stop_all; rm -rf "$TEST_DIR"' EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
skip() { case " $SKIP " in *" $1 "*) return 0;; esac; return 1; }
M() { python3 "$TOP/bench/measure.py" "$@"; }
OVSDB() { python3 "$TOP/bench/ovn/ovsdb.py" "$@"; }
# rec SIZE SYSTEM METRIC VALUE: one result line.
rec() { printf '%s\t%s\t%s\t%s\n' "$@" >> "$RES"; echo "   $2 $3 = $4"; }
# rss PIDFILE: "VmRSS VmHWM" in kB.
rss() { awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r, h }' "/proc/$(cat "$1")/status"; }
rec_rss() {     # rec_rss SIZE SYSTEM NAME PIDFILE: live, else the guard's sample
    local r h
    if [ -f "$4" ] && [ -d "/proc/$(cat "$4")" ]; then
        read -r r h < <(rss "$4")
    elif [ -f "$OVN_D/mem-$3" ]; then
        read -r r h < "$OVN_D/mem-$3"
    else
        return 0
    fi
    rec "$1" "$2" "rss_$3_kb" "$r"
    rec "$1" "$2" "hwm_$3_kb" "$h"
}
flow_count() { ofctl_on "$1" dump-aggregate br-int 2>/dev/null | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p'; }
underlay() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([h["underlay_ip"] for h in d["hosts"] if h["id"]==sys.argv[2]][0])' "$1" "$2"; }
local_enis() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(e["id"] for e in d["enis"] if e["host"]==sys.argv[2]))' "$1" "$2"; }
# plug NAME REGION HOST KEY: a dummy port per ENI of HOST on br-int, with
# external_ids:KEY=ENI (vpc-eni-id for ours, iface-id for OVN).
plug() {
    local args=() i=1 eni
    for eni in $(local_enis "$2" "$3"); do
        args+=(-- add-port br-int "p$i" -- set interface "p$i" type=dummy ofport_request=$i "external_ids:$4=$eni")
        i=$((i + 1))
    done
    vsctl_on "$1" "${args[@]}"
}

# ----------------------------------------------------------------- OVN
# ovn_central: NB + SB ovsdb-servers and ovn-northd in $OVN_D.
ovn_central() {
    local db
    mkdir -p "$OVN_D"
    for db in nb sb; do
        ovsdb-tool create "$OVN_D/$db.db" "/usr/share/ovn/ovn-$db.ovsschema"
        ovsdb-server "$OVN_D/$db.db" --remote="punix:$OVN_D/$db.sock" \
            --pidfile="$OVN_D/$db.pid" --unixctl="$OVN_D/$db.ctl" \
            --log-file="$OVN_D/$db.log" -vconsole:off --detach --no-chdir 2>/dev/null
    done
    ovn-nbctl --db="unix:$OVN_D/nb.sock" init
    ovn-northd --ovnnb-db="unix:$OVN_D/nb.sock" --ovnsb-db="unix:$OVN_D/sb.sock" \
        --pidfile="$OVN_D/northd.pid" --unixctl="$OVN_D/northd.ctl" \
        --log-file="$OVN_D/northd.log" -vconsole:off --detach --no-chdir 2>/dev/null
}
nbctl() { ovn-nbctl --db="unix:$OVN_D/nb.sock" --timeout="${NBCTL_TIMEOUT:-60}" "$@"; }
sbctl() { ovn-sbctl --db="unix:$OVN_D/sb.sock" --timeout=60 "$@"; }
# ovn_chassis NAME SYSTEM_ID UNDERLAY: a sandboxed ovs-vswitchd with br-int
# (dummy datapath) and br-phy (dummy underlay p0 with UNDERLAY/24, every
# other address resolved), and ovn-controller on it; waits for its Chassis
# and Chassis_Private rows.
ovn_chassis() {
    local name=$1 ip=$3 d i
    ovs_start "$name"
    d=${OVS_DIR[$name]}
    vsctl_on "$name" \
        -- add-br br-int -- set bridge br-int datapath_type=dummy fail-mode=secure \
           other-config:disable-in-band=true \
        -- add-br br-phy -- set bridge br-phy datapath_type=dummy \
           other-config:hwaddr=02:aa:00:00:00:01 \
        -- add-port br-phy p0 -- set interface p0 type=dummy ofport_request=1 \
        -- set Open_vSwitch . external_ids:system-id="$2" \
           external_ids:ovn-remote="unix:$OVN_D/sb.sock" \
           external_ids:ovn-encap-type=geneve external_ids:ovn-encap-ip="$ip" \
           external_ids:ovn-bridge-datapath-type=dummy
    appctl_on "$name" netdev-dummy/ip4addr br-phy "$ip/16" >/dev/null
    appctl_on "$name" ovs/route/add "${ip%.*.*}.0.0/16" br-phy >/dev/null
    ofctl_on "$name" add-flow br-phy action=normal
    OVS_RUNDIR=$d OVN_RUNDIR=$d "$OVNC" "unix:$d/db.sock" \
        --pidfile="$d/ovn-controller.pid" \
        --log-file="$d/ovn-controller.log" -vconsole:off --detach --no-chdir 2>/dev/null
    for i in $(seq 100); do
        sbctl --bare --columns=nb_cfg find Chassis_Private name="$2" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    echo "bench-ovn: ovn-controller of $2 did not register" >&2
    return 1
}
# neigh NAME REGION: every other host's underlay address resolves (so that
# the userspace Geneve encapsulation has a next hop).
neigh() {
    local ip
    for ip in $(python3 -c 'import json,sys; print(" ".join(h["underlay_ip"] for h in json.load(open(sys.argv[1]))["hosts"]))' "$2"); do
        echo "tnl/arp/set br-phy $ip 02:ee:00:00:00:01"
    done | while read -r a b c d; do appctl_on "$1" "$a" "$b" "$c" "$d" >/dev/null; done
}

MEM_MIN_MB=${MEM_MIN_MB:-3072}
# mem_guard T0: (background) every second, the RSS/HWM of OVN's processes
# into $OVN_D/mem-NAME; under MEM_MIN_MB available, stops them all and
# writes the time since T0 into $OVN_D/memguard.
mem_guard() {
    local avail n f
    local -A pf=([nb]=$OVN_D/nb.pid [sb]=$OVN_D/sb.pid [northd]=$OVN_D/northd.pid
                 [controller]=${OVS_DIR[ovn]}/ovn-controller.pid)
    while sleep 1; do
        for n in "${!pf[@]}"; do
            f=${pf[$n]}
            [ -f "$f" ] && rss "$f" > "$OVN_D/mem-$n.new" 2>/dev/null \
                && mv "$OVN_D/mem-$n.new" "$OVN_D/mem-$n"
        done
        avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
        if [ "$avail" -lt "$MEM_MIN_MB" ]; then
            since "$1" > "$OVN_D/memguard"
            echo "   memory guard: ${avail} MB available, stopping OVN" >&2
            for n in northd sb nb controller; do stop_pid "${pf[$n]}"; done
            return 0
        fi
    done
}

# left: seconds left before DEADLINE (at least 1).
left() { awk -v d="$DEADLINE" -v n="$(now)" 'BEGIN { l = int(d - n); print (l < 1 ? 1 : l) }'; }

# ovn_size N REGION
ovn_size() {
    local n=$1 R=$2 NB=$TEST_DIR/nb-$1.json t0 t c last first_t same tl ok=1 lat=()
    local under; under=$(underlay "$R" "$HOST")
    "$BIN" export-ovn "$R" > "$NB"
    rec "$n" ovn nb_ops "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))) - 1)' "$NB")"
    ovn_central
    OVSDB chassis "$OVN_D/sb.sock" "$R" "$HOST"
    ovn_chassis ovn "$HOST" "$under"
    plug ovn "$R" "$HOST" iface-id
    sleep 1
    DEADLINE=$(awk -v n="$(now)" -v m="$OVN_MAX" 'BEGIN { printf "%.3f", n + m }')
    echo "   loading $(stat -c %s "$NB") bytes of NB transaction; cap ${OVN_MAX} s"
    t0=$(now)
    mem_guard "$t0" &
    local guard=$!
    timeout "$(left)" python3 "$TOP/bench/ovn/ovsdb.py" transact "$OVN_D/nb.sock" "$NB" || ok=0
    [ $ok = 1 ] && { rec "$n" ovn t_nb_load_s "$(since "$t0")"; }
    [ $ok = 1 ] && { NBCTL_TIMEOUT=$(left) nbctl --wait=sb sync || ok=0; }
    [ $ok = 1 ] && rec "$n" ovn t_wait_sb_s "$(since "$t0")"
    if [ $ok = 1 ]; then
        read -r c _ < <(timeout "$(left)" python3 "$TOP/bench/ovn/ovsdb.py" bind "$OVN_D/sb.sock" "$R" "$HOST") || ok=0
        [ $ok = 1 ] && rec "$n" ovn remote_ports_bound "$c"
        [ $ok = 1 ] && rec "$n" ovn t_bind_s "$(since "$t0")"
    fi
    [ $ok = 1 ] && { NBCTL_TIMEOUT=$(left) nbctl --wait=hv sync || ok=0; }
    if [ $ok = 1 ]; then
        t=$(since "$t0")
        rec "$n" ovn t_wait_hv_s "$t"
        # Flow count stable for STABLE s.
        last=-1 first_t=$t same=0
        while :; do
            c=$(flow_count ovn)
            tl=$(since "$t0")
            if [ "$c" = "$last" ]; then
                same=$(awk -v a="$same" 'BEGIN { print a + 0.5 }')
                awk -v s="$same" -v m="$STABLE" 'BEGIN { exit !(s >= m) }' && break
            else
                last=$c first_t=$tl same=0
            fi
            awk -v d="$DEADLINE" -v n="$(now)" 'BEGIN { exit !(n > d) }' && { ok=0; break; }
            sleep 0.5
        done
        awk -v a="$first_t" -v b="$t" 'BEGIN { exit !(a < b) }' && first_t=$t
    fi
    rec "$n" ovn cap_s "$OVN_MAX"
    if [ -f "$OVN_D/memguard" ]; then
        ok=0
        rec "$n" ovn memguard_s "$(cat "$OVN_D/memguard")"
    fi
    if [ $ok = 0 ]; then
        echo "   OVN did not converge in $OVN_MAX s"
        rec "$n" ovn converged 0
        rec "$n" ovn flows "$(flow_count ovn || echo 0)"
        kill "$guard" 2>/dev/null || true
    else
        rec "$n" ovn converged 1
        rec "$n" ovn t_converge_s "$first_t"
        rec "$n" ovn flows "$last"
        rec "$n" ovn lflows "$(sbctl --bare --columns=_uuid list Logical_Flow | grep -c .)"
        # Add one ENI, ADDS times.
        local k name tx f0 f1
        for k in $(seq "$ADDS"); do
            tx=$TEST_DIR/add-$k.json
            read -r name _ < <(OVSDB add-eni "$tx" "$R" "$HOST" "$k")
            vsctl_on ovn add-port br-int "a$k" -- set interface "a$k" type=dummy \
                ofport_request=$((5000 + k)) "external_ids:iface-id=$name"
            sleep 1
            f0=$(flow_count ovn)
            t=$(now)
            ovsdb-client transact "unix:$OVN_D/nb.sock" "$(cat "$tx")" >/dev/null
            nbctl --wait=hv sync
            lat+=("$(since "$t")")
            f1=$(flow_count ovn)
            echo "   add $name: ${lat[-1]} s, br-int flows $f0 -> $f1, binding $(sbctl --bare --columns=chassis find Port_Binding logical_port="$name" | head -c 8)"
        done
        rec "$n" ovn add_eni_median_s "$(median "${lat[@]}")"
        rec "$n" ovn add_eni_max_s "$(printf '%s\n' "${lat[@]}" | sort -g | tail -1)"
        kill "$guard" 2>/dev/null || true
    fi
    wait "$guard" 2>/dev/null || true
    rec_rss "$n" ovn nb "$OVN_D/nb.pid"
    rec_rss "$n" ovn sb "$OVN_D/sb.pid"
    rec_rss "$n" ovn northd "$OVN_D/northd.pid"
    rec_rss "$n" ovn controller "${OVS_DIR[ovn]}/ovn-controller.pid"
    rec_rss "$n" ovn vswitchd "${OVS_DIR[ovn]}/ovs-vswitchd.pid"
    rec_rss "$n" ovn ovsdb "${OVS_DIR[ovn]}/ovsdb-server.pid"
    stop_all
    rm -rf "${TEST_DIR:?}/ovn" "$NB"
}

# ----------------------------------------------------------------- ours
# ours_size N REGION
ours_size() {
    local n=$1 R=$2 mode t r d binds=() i=1 eni code
    local under; under=$(underlay "$R" "$HOST")
    for eni in $(local_enis "$R" "$HOST"); do binds+=("--bind=$eni=$i"); i=$((i + 1)); done
    for mode in action flows; do
        read -r t r < <(M 1 "$TEST_DIR/flows.txt" "$BIN" compile "$R" --host "$HOST" \
            --tunnel-port 1000 --mapping="$mode" "${binds[@]}" 2>/dev/null)
        rec "$n" "ours-$mode" t_compile_s "$t"
        rec "$n" "ours-$mode" hwm_vpcctl_compile_kb "$r"
        ovs_start m
        sandbox_host m "$under"
        vsctl_on m remove interface p0 options tx_pcap
        plug m "$R" "$HOST" vpc-eni-id
        read -r t r < <(OVS_RUNDIR=${OVS_DIR[m]} M 1 "$TEST_DIR/apply.txt" "$BIN" apply "$R" \
            --host "$HOST" --mapping="$mode")
        rec "$n" "ours-$mode" t_converge_s "$t"
        rec "$n" "ours-$mode" hwm_vpcctl_kb "$r"
        rec "$n" "ours-$mode" flows "$(flow_count m)"
        rec_rss "$n" "ours-$mode" vswitchd "${OVS_DIR[m]}/ovs-vswitchd.pid"
        rec_rss "$n" "ours-$mode" ovsdb "${OVS_DIR[m]}/ovsdb-server.pid"
        stop_all
        rm -rf "${TEST_DIR:?}/m"
    done
    # vpcd, action mode.
    ovs_start m
    sandbox_host m "$under"
    vsctl_on m remove interface p0 options tx_pcap
    plug m "$R" "$HOST" vpc-eni-id
    d=${OVS_DIR[m]}
    OVS_RUNDIR=$d "$VPCD" --host "$HOST" --mapping action --state-dir "$d/state" \
        --http "127.0.0.1:18511" --pidfile="$d/vpcd.pid" --log-file="$d/vpcd.log" \
        --detach --no-chdir -vconsole:off 2>/dev/null
    t=$(now)
    code=$(curl -s -o "$TEST_DIR/put.json" -w '%{http_code}' -X PUT --data-binary @"$R" 127.0.0.1:18511/v1/intents)
    t=$(since "$t")
    [ "$code" = 200 ] || echo "   vpcd PUT answered $code: $(head -c 300 "$TEST_DIR/put.json")"
    rec "$n" ours-vpcd t_converge_s "$t"
    rec "$n" ours-vpcd flows "$(flow_count m)"
    python3 "$TOP/bench/put_latency.py" "$R" "$HOST" "$ADDS" http://127.0.0.1:18511 > "$TEST_DIR/lat.json"
    echo "   put_latency: $(cat "$TEST_DIR/lat.json")"
    rec "$n" ours-vpcd add_eni_median_s "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["median_ms"] / 1000)' "$TEST_DIR/lat.json")"
    rec "$n" ours-vpcd add_eni_max_s "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["max_ms"] / 1000)' "$TEST_DIR/lat.json")"
    rec_rss "$n" ours-vpcd vpcd "$d/vpcd.pid"
    rec_rss "$n" ours-vpcd vswitchd "$d/ovs-vswitchd.pid"
    rec_rss "$n" ours-vpcd ovsdb "$d/ovsdb-server.pid"
    stop_all
    rm -rf "${TEST_DIR:?}/m"
}

# ------------------------------------------------------- datapath (-1)
# The datapath region: one VPC, eni-src on host-a, 1,000 remote ENIs.
DPR=$TEST_DIR/dp-region.json
TSC_MHZ=$(awk -F': ' '/^cpu MHz/ { print $2 + 0; exit }' /proc/cpuinfo)
INJECT=()
# dp_setup SYSTEM VM_TYPE: sandbox "h" as host-a for SYSTEM (ours-action,
# ours-flows, ovn), its pipeline installed, vm-src (VM_TYPE: dummy or
# dummy-pmd) bound to eni-src, every underlay neighbour resolved.
dp_setup() {
    local sys=$1 vt=$2 c
    if [ "$sys" = ovn ]; then
        ovn_central
        OVSDB chassis "$OVN_D/sb.sock" "$DPR" host-a
        ovn_chassis h host-a 192.168.100.1
        if [ "$vt" = dummy-pmd ]; then pin h; fi
        vsctl_on h add-port br-int vm-src -- set interface vm-src type="$vt" \
            ofport_request=1 external_ids:iface-id=eni-src
        "$BIN" export-ovn "$DPR" > "$TEST_DIR/dp-nb.json"
        OVSDB transact "$OVN_D/nb.sock" "$TEST_DIR/dp-nb.json"
        nbctl --wait=sb sync
        read -r c _ < <(OVSDB bind "$OVN_D/sb.sock" "$DPR" host-a)
        nbctl --wait=hv sync
        DST_MAC=                       # L2: each remote ENI's own MAC
    else
        ovs_start h
        sandbox_host h 192.168.100.1
        vsctl_on h remove interface p0 options tx_pcap
        if [ "$vt" = dummy-pmd ]; then pin h; fi
        vsctl_on h add-port br-int vm-src -- set interface vm-src type="$vt" \
            ofport_request=1 external_ids:vpc-eni-id=eni-src
        OVS_RUNDIR=${OVS_DIR[h]} "$BIN" apply "$DPR" --host host-a --mapping="${sys#ours-}" >/dev/null
        DST_MAC=02:76:70:00:00:64      # L3: the VPC's router (VNI 100)
    fi
    neigh h "$DPR"
    sleep 1
}
# pin NAME: ovs-vswitchd's threads on CPU 0 and a PMD on CPU 1.
pin() {
    taskset -a -p 1 "$(cat "${OVS_DIR[$1]}/ovs-vswitchd.pid")" >/dev/null
    vsctl_on "$1" set Open_vSwitch . other_config:pmd-cpu-mask=0x2
}
# send_to COUNT: COUNT ICMP packets from eni-src, cycling over the remote
# ENIs, 100 packets per netdev-dummy/receive call (bench-ovs-ext.sh).
send_to() {
    awk -v c="$1" 'BEGIN { n = 0 } { d[n] = $1; m[n] = $2; n++ } END { for (i = 0; i < c; i++) print d[i % n], m[i % n] }' "$DPR.dsts" \
    | awk -v rm="$DST_MAC" '{ printf "eth(src=02:00:00:00:00:00,dst=%s),eth_type(0x0800),ipv4(src=10.0.0.4,dst=%s,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)%s", (rm == "" ? $2 : rm), $1, (NR % 100 ? " " : "\n") } END { print "" }' \
    | while read -r line; do
        # shellcheck disable=SC2086
        if [ -n "$line" ]; then
            "${INJECT[@]}" ovs-appctl -t "${OVS_DIR[h]}/ovs-vswitchd.ctl" \
                netdev-dummy/receive vm-src $line >/dev/null
        fi
    done
}
# wait_received main|pmd: waits until that thread's "packets received"
# stops growing (0.5 s unchanged, at most ~30 s); prints it.
wait_received() {
    local last=-1 cur=0 i
    for i in $(seq 60); do
        sleep 0.5
        cur=$(appctl_on h dpif-netdev/pmd-stats-show | awk -v t="$1" '
            /^main thread/ { m = (t == "main") } /^pmd thread/ { m = (t == "pmd") }
            m && /packets received:/ { print $3; exit }')
        [ "${cur:-0}" = "$last" ] && break
        last=${cur:-0}
    done
    echo "${cur:-0}"
}
p0_tx() {
    appctl_on h dpctl/show -s | awk '$2 == "p0" || $3 == "p0" { f = 1 }
        f && /TX packets:/ { sub(/.*TX packets:/, ""); print $1 + 0; exit }'
}
DP_SYSTEMS=${DP_SYSTEMS:-ours-action ours-flows ovn}
datapath() {
    local sys got passes mf run cpp want=$((1000 * PPS_ROUNDS)) runs
    python3 "$TOP/bench/remote-region.py" 1000 "$DPR"
    if ! skip mf; then
        echo "== datapath: megaflows after 1,000 packets to 1,000 remote ENIs"
        for sys in $DP_SYSTEMS; do
            dp_setup "$sys" dummy
            rec -1 "$sys" flows "$(flow_count h)"
            got=0 passes=0
            while [ "$got" -lt 1000 ] && [ "$passes" -lt 3 ]; do
                send_to 1000
                passes=$((passes + 1))
                got=$(wait_received main)
            done
            sleep 0.5
            appctl_on h dpctl/dump-flows > "$OUT/bench-ovn-dpflows-$sys.txt"
            rec -1 "$sys" mf_received "$got"
            rec -1 "$sys" mf_p0_tx "$(p0_tx)"
            rec -1 "$sys" megaflows "$(wc -l < "$OUT/bench-ovn-dpflows-$sys.txt")"
            stop_all
            rm -rf "${TEST_DIR:?}/h"
        done
    fi
    if ! skip pps; then
        echo "== datapath: PMD cycles per packet, $PPS_ROUNDS x 1,000 packets, $PPS_RUNS runs (cpu MHz $TSC_MHZ)"
        declare -A CPP=()
        for run in $(seq "$PPS_RUNS"); do
            for sys in $DP_SYSTEMS; do
                dp_setup "$sys" dummy-pmd
                INJECT=(taskset -c 0)
                send_to 1000                 # warm-up: upcalls, megaflows
                sleep 1
                appctl_on h dpif-netdev/pmd-stats-clear >/dev/null
                sleep 0.5
                send_to "$want"
                got=$(wait_received pmd)
                INJECT=()
                appctl_on h dpif-netdev/pmd-stats-show > "$OUT/bench-ovn-pmd-$sys.txt"
                cpp=$(awk '/^pmd thread/ { m = 1 } /^main thread/ { m = 0 }
                    m && /avg processing cycles per packet:/ { print $6; exit }' "$OUT/bench-ovn-pmd-$sys.txt")
                echo "   run $run, $sys: $got packets received by the PMD, $cpp cycles/packet"
                CPP[$sys]="${CPP[$sys]:-} $cpp"
                stop_all
                rm -rf "${TEST_DIR:?}/h"
            done
        done
        for sys in $DP_SYSTEMS; do
            # shellcheck disable=SC2086
            cpp=$(median ${CPP[$sys]})
            runs=$(echo ${CPP[$sys]} | tr ' ' /)
            rec -1 "$sys" pps_runs "$runs"
            rec -1 "$sys" pps_cycles "$cpp"
            rec -1 "$sys" pps_mpps "$(awk -v m="$TSC_MHZ" -v c="$cpp" 'BEGIN { printf "%.3f", m / c }')"
        done
    fi
    rm -f "$DPR" "$DPR.dsts"
}

# ------------------------------------------------------------------ main
echo "== ovs-vpc vs OVN, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) vCPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$RES"
rec 0 machine date "$(date -u '+%Y-%m-%d %H:%M UTC')"
rec 0 machine load_before "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"
for n in $SIZES; do
    vpcs=$((n / 10)) hosts=$((n / 100))
    [ "$hosts" -ge 2 ] || hosts=2
    R=$OUT/ovn-region-$n.json
    python3 bench/gen-region.py --vpcs "$vpcs" --enis "$n" --hosts "$hosts" --seed 1 --out "$R" 2>/dev/null
    nl=$(local_enis "$R" "$HOST" | wc -w)
    echo "== $n ENIs ($vpcs VPCs, $hosts hosts): $HOST holds $nl ENIs"
    rec "$n" region vpcs "$vpcs"
    rec "$n" region hosts "$hosts"
    rec "$n" region local_enis "$nl"
    if ! skip ours; then echo "-- ours"; ours_size "$n" "$R"; fi
    if ! skip ovn; then echo "-- OVN"; ovn_size "$n" "$R"; fi
    rm -f "$R"
done
if ! skip mf || ! skip pps; then datapath; fi
rec 0 machine load_after "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"
python3 "$TOP/bench/ovn/report.py" "$RES"

#!/usr/bin/env bash
# bench/bench-vpcd.sh: vpcd's change latency, resync time and memory.
#
# For each region size: two sandboxed OVS (the measured host and a peer
# host that shares a VPC with it), each with its own vpcd (action mode) and
# its ENIs plugged; then
#   - PUT latency: CHANGES rounds, each adding one ENI to the document and
#     PUTting it to both vpcds; time until both answered "installed";
#   - resync: kill -9 the measured host's ovs-vswitchd, start it again, time
#     until every desired flow is back (vpcd's audit repairs it);
#   - vpcd's resident memory.
# Environment: SIZES (default "small big"), CHANGES_SMALL (100), CHANGES_BIG
# (20).  small = 1,000 VPCs / 10,000 ENIs / 100 hosts; big = the foundation
# benchmark's 10,000 / 100,000 / 1,000.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TOP/tests/lib.sh"
OUT=$TOP/bench/out
mkdir -p "$OUT"
VPCD=$TOP/build/vpcd

plug_all() {   # plug_all NAME REGION HOST: a dummy port per ENI of HOST.
    local args=() i=1 eni
    for eni in $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(e["id"] for e in d["enis"] if e["host"]==sys.argv[2]))' "$2" "$3"); do
        args+=(-- add-port br-int "p$i" -- set interface "p$i" type=dummy ofport_request=$i external_ids:vpc-eni-id="$eni")
        i=$((i + 1))
    done
    vsctl_on "$1" "${args[@]}"
}
underlay() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([h["underlay_ip"] for h in d["hosts"] if h["id"]==sys.argv[2]][0])' "$1" "$2"; }
peer_of() {    # A host that shares a VPC with HOST (the one put_latency picks).
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); host = sys.argv[2]
sv = {s["id"]: s["vpc"] for s in d["subnets"]}
hosts = {}
for e in d["enis"]: hosts.setdefault(sv[e["subnet"]], []).append(e["host"])
for e in d["enis"]:
    if e["host"] == host and len(set(hosts[sv[e["subnet"]]])) > 1:
        print(next(h for h in hosts[sv[e["subnet"]]] if h != host)); break
PY
}
start_vpcd() { # start_vpcd NAME HOST PORT
    local d=${OVS_DIR[$1]}
    OVS_RUNDIR=$d "$VPCD" --host "$2" --mapping action --state-dir "$d/state" \
        --http "127.0.0.1:$3" --pidfile="$d/vpcd.pid" --log-file="$d/vpcd.log" \
        --detach --no-chdir -vconsole:off
}
stop_vpcd() { [ -f "${OVS_DIR[$1]}/vpcd.pid" ] && kill "$(cat "${OVS_DIR[$1]}/vpcd.pid")"; }
flow_count() { ofctl_on "$1" dump-aggregate br-int 2>/dev/null | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p'; }

for size in ${SIZES:-small big}; do
    case $size in
        small) args="--vpcs 1000 --enis 10000 --hosts 100"; changes=${CHANGES_SMALL:-100} ;;
        big) args="--vpcs 10000 --enis 100000 --hosts 1000"; changes=${CHANGES_BIG:-20} ;;
    esac
    R=$OUT/vpcd-$size.json
    python3 "$TOP/bench/gen-region.py" $args --seed 1 --out "$R"
    H=host-0000; P=$(peer_of "$R" $H)
    echo "== $size region ($args): measured host $H, peer host $P"
    ovs_start m; sandbox_host m "$(underlay "$R" $H)"; plug_all m "$R" $H
    ovs_start p; sandbox_host p "$(underlay "$R" $P)"; plug_all p "$R" $P
    start_vpcd m $H 18501; start_vpcd p $P 18502
    for u in 18501 18502; do
        curl -s -o /dev/null -X PUT --data-binary @"$R" "127.0.0.1:$u/v1/intents"
    done
    python3 "$TOP/bench/put_latency.py" "$R" $H "$changes" http://127.0.0.1:18501 http://127.0.0.1:18502 \
        | tee "$OUT/vpcd-$size-latency.json"

    want=$(curl -s 127.0.0.1:18501/v1/status | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"])')
    d=${OVS_DIR[m]}
    kill -9 "$(cat "$d/ovs-vswitchd.pid")"; sleep 0.2
    t0=$(date +%s%N)
    OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d" ovs-vswitchd "unix:$d/db.sock" --enable-dummy \
        --disable-system --pidfile="$d/ovs-vswitchd.pid" --unixctl="$d/ovs-vswitchd.ctl" \
        --log-file="$d/ovs-vswitchd.log" -vconsole:off --detach --no-chdir 2>>"$d/stderr.log"
    t1=$(date +%s%N)
    for _ in $(seq 600); do [ "$(flow_count m)" = "$want" ] && break; sleep 0.01; done
    t2=$(date +%s%N)
    echo "resync after ovs-vswitchd restart: $want flows back $(( (t2 - t1) / 1000000 )) ms after it started ($(( (t2 - t0) / 1000000 )) ms after the restart began)"
    echo "vpcd RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/"$(cat "$d/vpcd.pid")"/status)"
    stop_vpcd m; stop_vpcd p
    ovs_stop_all
    # The next size starts from fresh switches (ovs_start would find this
    # size's conf.db and bridges, and its port bindings would fail).
    rm -rf "$TEST_DIR/m" "$TEST_DIR/p"
done
rm -rf "$TEST_DIR"

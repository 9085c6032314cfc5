#!/bin/bash
# bench/bench.sh: the synthetic-region benchmark (see docs/benchmarks.md).
#
# Assumes 'make' has built build/vpcctl and OVS.  Generates a region into
# bench/out/ (gitignored) and reports, as medians of $RUNS runs:
#   - validate time and peak RSS for the whole region;
#   - compile time, peak RSS and flow count for host-0000 (offline, every
#     ENI of host-0000 bound with --bind);
#   - apply time of that flow set into a sandboxed ovs-vswitchd (dummy
#     datapath) through one bundle: first apply (all adds), second (no-op);
#   - how host-0000's flow count grows with the region's size.
# Environment: RUNS (default 5), APPLY_RUNS (default 3), VPCS, ENIS, HOSTS,
# SEED (defaults 10000, 100000, 1000, 1), SCALING=0 to skip the scaling run.
set -eu
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
BIN=${VPCCTL:-$TOP/build/vpcctl}
RUNS=${RUNS:-5}
APPLY_RUNS=${APPLY_RUNS:-3}
VPCS=${VPCS:-10000} ENIS=${ENIS:-100000} HOSTS=${HOSTS:-1000} SEED=${SEED:-1}
OUT=$TOP/bench/out
HOST=host-0000
mkdir -p "$OUT"
[ -x "$BIN" ] || { echo "bench: $BIN not built; run make" >&2; exit 1; }
M() { python3 "$TOP/bench/measure.py" "$@"; }

# binds FILE HOST: "--bind=ENI=N" for every ENI placed on HOST (ofports 1..).
binds() {
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = [x["id"] for x in d["enis"] if x["host"] == sys.argv[2]]
print(" ".join("--bind=%s=%d" % (x, i + 1) for i, x in enumerate(e)))
PY
}
# host_facts FILE HOST: "local_enis local_vpcs vpcs_in_scope enis_in_scope"
host_facts() {
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sub = {s["id"]: s["vpc"] for s in d["subnets"]}
loc = [e for e in d["enis"] if e["host"] == sys.argv[2]]
present = {sub[e["subnet"]] for e in loc}
scope = set(present)
for p in d.get("peering_connections", []):
    if p["requester_vpc"] in present: scope.add(p["accepter_vpc"])
    if p["accepter_vpc"] in present: scope.add(p["requester_vpc"])
n = sum(1 for e in d["enis"] if sub[e["subnet"]] in scope)
print(len(loc), len(present), len(scope), n)
PY
}
# stage_counts FLOWS: flows per stage of a compile output ("# table N: name").
stage_counts() {
    awk '/^# table/ { name = $4 } /^table=/ { n[name]++ }
         END { for (s in n) printf "%s=%d ", s, n[s]; print "" }' "$1"
}
flows_of() { grep -c '^table=' "$1"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

echo "== generating region ($VPCS VPCs, $ENIS ENIs, $HOSTS hosts, seed $SEED)"
REGION=$OUT/region.json
read -r GEN_T _ < <(M 1 /dev/null python3 bench/gen-region.py --vpcs "$VPCS" \
    --enis "$ENIS" --hosts "$HOSTS" --seed "$SEED" --out "$REGION")
ls -l "$REGION" | awk '{ printf "   %s: %.1f MB, generated in '"$GEN_T"' s\n", $9, $5 / 1e6 }'
BINDS=$(binds "$REGION" "$HOST")
read -r N_LOCAL N_PRESENT N_SCOPE N_SCOPE_ENIS < <(host_facts "$REGION" "$HOST")
echo "   $HOST: $N_LOCAL ENIs from $N_PRESENT VPCs; $N_SCOPE VPCs in scope" \
     "(with peers) holding $N_SCOPE_ENIS ENIs"

echo "== validate x$RUNS"
read -r VAL_T VAL_RSS < <(M "$RUNS" "$OUT/validate.txt" "$BIN" validate "$REGION")
echo "== compile --host $HOST x$RUNS"
# shellcheck disable=SC2086
read -r COMP_T COMP_RSS < <(M "$RUNS" "$OUT/flows.txt" "$BIN" compile "$REGION" \
    --host "$HOST" --tunnel-port 1000 $BINDS 2>/dev/null)
COMP_FLOWS=$(flows_of "$OUT/flows.txt")
echo "   stages: $(stage_counts "$OUT/flows.txt")"

echo "== apply into a sandboxed ovs-vswitchd x$APPLY_RUNS"
export TEST_DIR
TEST_DIR=$(mktemp -d /tmp/ovs-vpc-bench.XXXXXX)
# shellcheck source=../tests/lib.sh
. "$TOP/tests/lib.sh"
VPCCTL=$BIN
set -e
UNDERLAY=$(python3 -c "import json,sys; print([h['underlay_ip'] for h in json.load(open(sys.argv[1]))['hosts'] if h['id']==sys.argv[2]][0])" "$REGION" "$HOST")
APPLY1=() APPLY2=() SWITCH_FLOWS=0 APPLY_RSS=0
for run in $(seq "$APPLY_RUNS"); do
    ovs_start "$HOST"
    sandbox_host "$HOST" "$UNDERLAY"
    # Every ENI of the host as a dummy port, in one ovs-vsctl transaction.
    args=()
    for b in $BINDS; do
        b=${b#--bind=}; eni=${b%=*}; ofp=${b##*=}
        args+=(-- add-port br-int "vm$ofp" -- set interface "vm$ofp" type=dummy
               ofport_request="$ofp" external_ids:vpc-eni-id="$eni")
    done
    vsctl_on "$HOST" "${args[@]}"
    export OVS_RUNDIR=${OVS_DIR[$HOST]}
    read -r t1 r1 < <(M 1 "$OUT/apply1.txt" "$BIN" apply "$REGION" --host "$HOST")
    SWITCH_FLOWS=$(ofctl_on "$HOST" dump-flows br-int --no-stats | grep -c 'actions=')
    read -r t2 r2 < <(M 1 "$OUT/apply2.txt" "$BIN" apply "$REGION" --host "$HOST")
    unset OVS_RUNDIR
    APPLY1+=("$t1") APPLY2+=("$t2")
    APPLY_RSS=$(( r1 > APPLY_RSS ? r1 : APPLY_RSS ))
    ovs_stop_all
    rm -rf "${TEST_DIR:?}/$HOST"
done
rm -rf "$TEST_DIR"
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
AP1_T=$(median "${APPLY1[@]}") AP2_T=$(median "${APPLY2[@]}")
echo "   first apply: $(head -c 300 "$OUT/apply1.txt" | tr '\n' ' ')"
echo "   second apply: $(head -c 300 "$OUT/apply2.txt" | tr '\n' ' ')"

SCALE_ROWS=()
if [ "${SCALING:-1}" != 0 ]; then
    echo "== scaling: host-0000 flows vs region size (VPCs fixed at $VPCS, ~100 ENIs per host)"
    for e in 10000 50000 100000; do
        h=$(( e / 100 ))
        f=$OUT/region-$e.json
        python3 bench/gen-region.py --vpcs "$VPCS" --enis "$e" --hosts "$h" \
            --seed "$SEED" --out "$f" 2>/dev/null
        b=$(binds "$f" "$HOST")
        read -r l p s se < <(host_facts "$f" "$HOST")
        # shellcheck disable=SC2086
        read -r t r < <(M 1 "$OUT/flows-$e.txt" "$BIN" compile "$f" \
            --host "$HOST" --tunnel-port 1000 $b 2>/dev/null)
        st=$(stage_counts "$OUT/flows-$e.txt")
        map=$(grep -o 'mapping=[0-9]*' <<<"$st" | cut -d= -f2)
        rx=$(grep -o 'rx_verify=[0-9]*' <<<"$st" | cut -d= -f2)
        SCALE_ROWS+=("| $e | $h | $l | $p | $s | $se | ${map:-?} | ${rx:-?} | $(flows_of "$OUT/flows-$e.txt") | $t | $(mib "$r") |")
        rm -f "$f"
    done
fi

cat <<EOT

## Results: $VPCS VPCs, $ENIS ENIs, $HOSTS hosts (seed $SEED); median of $RUNS runs (apply: $APPLY_RUNS)

| step | time (s) | peak RSS (MiB) | flows |
|---|---|---|---|
| validate (whole region) | $VAL_T | $(mib "$VAL_RSS") | – |
| compile --host $HOST ($N_LOCAL ENIs bound) | $COMP_T | $(mib "$COMP_RSS") | $COMP_FLOWS |
| apply, first (all flows added, one bundle) | $AP1_T | $(mib "$APPLY_RSS") | $SWITCH_FLOWS in br-int |
| apply, second (nothing changed) | $AP2_T | – | – |
EOT
if [ ${#SCALE_ROWS[@]} -gt 0 ]; then
cat <<EOT

## host-0000 flows vs region size ($VPCS VPCs, hosts = ENIs / 100)

| ENIs | hosts | local ENIs | local VPCs | VPCs in scope | ENIs in scope | mapping flows | rx_verify flows | total flows | compile (s) | peak RSS (MiB) |
|---|---|---|---|---|---|---|---|---|---|---|
EOT
printf '%s\n' "${SCALE_ROWS[@]}"
fi

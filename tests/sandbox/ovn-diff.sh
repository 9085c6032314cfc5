#!/usr/bin/env bash
# Sandbox: differential test against OVN (tests/ovn-diff/README.md).
# For every example and a few seeded random regions: our pipeline applied to
# one sandboxed ovs-vswitchd per host, the same region exported into a real
# OVN (NB and SB ovsdb-servers, ovn-northd); then tests/ovn-diff/ovn-diff.py
# traces the same probes through both and fails on any disagreement that is
# not a documented semantic difference.
#
#   OVN_DIFF_SEEDS  random regions (default "1 2 3"); 'make check-ovn-diff'
#                   runs many more
#   OVN_DIFF_MAX    probes per region (default 150; 0 = all)
# Skips (77) without ovn-northd, ovn-trace or OVN's schemas (ovn-central).
. "$(dirname "$0")/../lib.sh"

SEEDS=${OVN_DIFF_SEEDS-1 2 3}
MAX=${OVN_DIFF_MAX:-150}
OVN_SCHEMAS=${OVN_SCHEMAS:-/usr/share/ovn}
for tool in ovsdb-server ovsdb-client ovn-northd ovn-nbctl ovn-trace python3; do
    command -v "$tool" >/dev/null || skip "no $tool"
done
[ -f "$OVN_SCHEMAS/ovn-nb.ovsschema" ] || skip "no OVN schemas"

ROOT=$TEST_DIR
OVN=
# ovn_start: NB and SB ovsdb-servers and ovn-northd in $OVN, stopped by
# ovn_stop through their pid files.
ovn_start() {
    ovsdb_start "$OVN" nb "$OVN_SCHEMAS/ovn-nb.ovsschema"
    ovsdb_start "$OVN" sb "$OVN_SCHEMAS/ovn-sb.ovsschema"
    ovn-northd --ovnnb-db="unix:$OVN/nb.sock" --ovnsb-db="unix:$OVN/sb.sock" \
        --pidfile="$OVN/northd.pid" --unixctl="$OVN/northd.ctl" \
        --log-file="$OVN/northd.log" -vconsole:off --detach --no-chdir \
        2>>"$OVN/stderr.log"
}
ovn_stop() {
    local p
    for p in northd nb sb; do
        pid_stop "$OVN/$p.pid"
    done
}
trap 'ovn_stop; ovs_stop_all; exit 143' INT TERM

# diff_region NAME FILE: sets up both sides for region FILE and compares.
diff_region() {
    local name=$1 file=$2 host ip i hosts=() eni out status
    # Each region in its own directory (ovs_start and ovn_start use these).
    local TEST_DIR=$ROOT/${name// /-}
    OVN=$TEST_DIR/ovn     # global: the INT/TERM trap stops it
    "$VPCCTL" validate "$file" >/dev/null \
        || { fail "$name: the region validates"; return; }
    # Ours: one ovs-vswitchd per host; each ENI a dummy port on its host.
    while read -r host ip; do
        ovs_start "$host"
        sandbox_host "$host" "$ip"
        i=0
        for eni in $(jq -r --arg h "$host" '.enis[] | select(.host == $h) | .id' "$file"); do
            i=$((i + 1))
            sandbox_vm "$host" "vm$i" "$i" "$eni"
        done
        vpcctl_on "$host" apply "$file" --host "$host" >/dev/null \
            || fail "$name: apply on $host"
        hosts+=(--host "$host=${OVS_DIR[$host]}")
    done < <(jq -r '.hosts[] | "\(.id) \(.underlay_ip)"' "$file")
    # OVN: the export through ovn-northd into the southbound database.
    ovn_start
    out=$(ovsdb-client transact "unix:$OVN/nb.sock" "$("$VPCCTL" export-ovn "$file")" 2>&1)
    expect_not "$name: the export loads into OVN" '"error"' <<<"$out"
    ovn-nbctl --db="unix:$OVN/nb.sock" --timeout=30 --wait=sb sync
    out=$(python3 "$TOP/tests/ovn-diff/ovn-diff.py" --region "$file" \
        --sb "$OVN/sb.sock" --vpcctl "$VPCCTL" --mapping "$VPC_MAPPING" \
        --max "$MAX" "${hosts[@]}" 2>&1)
    status=$?
    sed 's/^/    /' <<<"$out"
    [ $status = 0 ] && pass "$name: no unexplained disagreement with OVN" \
        || fail "$name: verdicts differ from OVN's (above)"
    ovn_stop
    ovs_stop_all
    [ "$FAILS" -ne 0 ] || rm -rf "$TEST_DIR"
}

for ex in ${OVN_DIFF_EXAMPLES:-"$TOP"/examples/*.json}; do
    [ -f "$ex" ] && diff_region "$(basename "$ex" .json)" "$ex"
done
for seed in $SEEDS; do
    python3 "$TOP/tests/ovn-diff/gen-region.py" "$seed" >"$TEST_DIR/seed-$seed.json"
    diff_region "seed $seed" "$TEST_DIR/seed-$seed.json"
done

finish

#!/usr/bin/env bash
# The README's main job, the whole control plane on one machine: start a
# sandboxed Open vSwitch (ovsdb-server and ovs-vswitchd with the dummy
# datapath, in a temp dir) and, beside it, the region database
# (docs/regiondb.md); load the example region into the database; run vpcd
# for host-a following it (vpcd --region-db, action mapping: ovs-ext's
# mapping cache); show the flows and a few annotated traces; make one
# object-level change (a security-group rule, vpcctl ... --wait) and show
# the trace it changes; then stop everything.  Any step that fails stops
# the demo with a message and a non-zero exit status.
#
#   REGION=examples/peering.json HOST=host-a make demo   # another example
#   HOST=edge-1 make demo         # the edge of region.json (uplink, DX)
#   VPC_MAPPING=flows make demo   # stock OpenFlow mapping instead
#   KEEP=1 make demo      # leave the sandbox running and say how to use it
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
export VPC_MAPPING=${VPC_MAPPING:-action}
. "$TOP/tests/lib.sh"
. "$TOP/tests/vpcd-lib.sh"
. "$TOP/tests/sandbox/helpers.sh"
REGION=${REGION:-$TOP/examples/region.json}
HOST=${HOST:-host-a}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Stops what the demo started, by pid file (the region database is not one
# of ovs_start's, so ovs_stop_all does not know it).
stop_all() { ovs_stop_all; pid_stop "$TEST_DIR/rdb/region.pid"; }
die() { echo "demo: $*" >&2; stop_all; exit 1; }
trap 'stop_all; exit 143' INT TERM

say "Validating $REGION"
"$VPCCTL" validate "$REGION" || exit 1
# KIND UNDERLAY_IP of $HOST: "host" or "edge".
read -r kind ip < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for kind in ("host", "edge"):
    for h in d.get(kind + "s", []):
        if h["id"] == sys.argv[2]:
            print(kind, h["underlay_ip"])' "$REGION" "$HOST")
[ -n "${kind:-}" ] \
    || { echo "demo: $HOST is neither a host nor an edge of $REGION" >&2; exit 1; }

say "Starting the region database in $TEST_DIR/rdb"
regiondb_start "$TEST_DIR/rdb"
"$VPCCTL" --region-db="$REGION_DB" load "$REGION" || die "load failed"

say "Starting a sandboxed OVS for $kind $HOST in $TEST_DIR/$HOST"
if [ "$kind" = edge ]; then
    # The edge's uplink (ofport 2) and Direct Connect trunk (ofport 3).
    sandbox_edge "$HOST" "$ip" || die "the edge's sandbox did not start"
    echo "  uplink on br-int port uplink (ofport 2), Direct Connect on dx (ofport 3)"
else
    ovs_start "$HOST" || die "OVS did not start"
    sandbox_host "$HOST" "$ip" || die "br-int did not come up"
    port=1
    for eni in $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(e["id"] for e in d["enis"] if e["host"]==sys.argv[2]))' "$REGION" "$HOST"); do
        sandbox_vm "$HOST" "vm$port" "$port" "$eni" || die "cannot plug $eni"
        echo "  plugged $eni into br-int port vm$port (ofport $port)"
        port=$((port + 1))
    done
fi

say "vpcd for $HOST follows the region database (mapping: $VPC_MAPPING)"
vpcd_start "$HOST" "" --region-db="$REGION_DB" || die "vpcd did not start"
vpcd_wait "$HOST" '.in_sync and .region_db.applied_cfg == .region_db.cfg' 20 \
    || die "vpcd did not converge"
echo "  in sync after ${VPCD_WAITED_MS} ms: $(vpcd_status "$HOST" .flows) flows, $(vpcd_status "$HOST" .cache_entries) cache entries"
"$VPCCTL" --region-db="$REGION_DB" status

say "Flows per stage on br-int"
out=$(vpcctl_on "$HOST" compile "$REGION" --host "$HOST" 2>"$TEST_DIR/err") \
    || die "vpcctl compile failed: $(cat "$TEST_DIR/err")"
awk '/^# table/ {t=$0; next} {n[t]++} END {for (t in n) print n[t], t}' \
    <<<"$out" | sort -t: -k1.9n | sed 's/# //'

say "A few flows, with the intent that made each one (vpcctl compile --annotate)"
out=$(vpcctl_on "$HOST" compile "$REGION" --host "$HOST" --annotate \
      2>"$TEST_DIR/err") \
    || die "vpcctl compile --annotate failed: $(cat "$TEST_DIR/err")"
if [ "$kind" = edge ]; then
    pattern='^#   from (igw-web|nat-web|dxvif-)'
else
    pattern='^#   from (sg-web ingress\[0\]|rtb-web routes\[0\])'
fi
grep -A1 -E "$pattern" <<<"$out" | head -8

trace() {
    say "Trace: $1"
    out=$(vpcctl_on "$HOST" trace "$REGION" --host "$HOST" "$1" 2>&1) \
        || die "vpcctl trace '$1' failed: $out"
    grep -E '^ *\[|^Verdict|^Datapath' <<<"$out"
}
if [ "$REGION" = "$TOP/examples/region.json" ] && [ "$HOST" = host-a ]; then
    trace 'from eni-client-a to 10.10.1.10 tcp dport 443'    # allowed by sg-web
    trace 'from eni-client-a to 10.10.1.10 tcp dport 22'     # denied by sg-web
    trace 'from eni-web-a to 10.10.2.10 tcp dport 8080'      # remote: Geneve
    trace 'from eni-red-a to 10.0.1.20'                      # red's 10.0.1.20
    trace 'from eni-blue-a to 10.0.1.20'                     # blue's: other VNI
    trace 'from eni-red-a to 10.10.1.10'                     # isolated VPC
fi

if [ "$REGION" = "$TOP/examples/region.json" ] && [ "$HOST" = host-a ]; then
    say "An object-level change: sg-web allows ssh from 10.10.0.0/16"
    # (vpcctl --wait would wait for every host whose scope holds vpc-web;
    # only host-a runs here, so wait for its acknowledgement instead.)
    out=$("$VPCCTL" --region-db="$REGION_DB" \
        authorize-security-group-ingress --group-id sg-web --protocol tcp \
        --port 22 --cidr 10.10.0.0/16) || die "the write failed"
    echo "  $out"
    cfg=${out#cfg }
    vpcd_wait "$HOST" ".region_db.applied_cfg == $cfg and .in_sync" 20 \
        || die "$HOST did not apply cfg $cfg"
    echo "  $HOST applied cfg $cfg after ${VPCD_WAITED_MS} ms; vpcd: $(vpcd_status "$HOST" '.region_db | "\(.change_ms_last) ms of agent work (update to bundle acknowledged)"')"
    # Label the trace with what the database holds now.
    "$VPCCTL" --region-db="$REGION_DB" dump > "$TEST_DIR/region-now.json"
    REGION=$TEST_DIR/region-now.json
    trace 'from eni-client-a to 10.10.1.10 tcp dport 22'     # now allowed
    say "A rejected write: an IP outside its subnet (nothing is committed)"
    "$VPCCTL" --region-db="$REGION_DB" create-network-interface \
        --network-interface-id eni-bad --subnet-id subnet-web \
        --private-ip-address 10.99.0.5 --mac-address 02:00:00:99:00:05 \
        --host "$HOST" --groups sg-web && die "an invalid write was accepted"
    "$VPCCTL" --region-db="$REGION_DB" status
fi

if [ -n "${KEEP:-}" ]; then
    say "Sandbox left running. Try:"
    echo "  export OVS_RUNDIR=$TEST_DIR/$HOST"
    echo "  $VPCCTL --region-db=$REGION_DB status"
    echo "  curl -s http://127.0.0.1:${VPCD_PORT[$HOST]}/v1/status"
    echo "  $OVS/utilities/ovs-ofctl -O OpenFlow15 dump-flows br-int"
    [ "$kind" = host ] && echo "  $VPCCTL trace $REGION --host $HOST 'from eni-web-a to 10.10.2.10 tcp dport 8080'"
    echo "  stop: kill \$(cat $TEST_DIR/$HOST/vpcd.pid) \$(cat $TEST_DIR/$HOST/ovs-vswitchd.pid) \$(cat $TEST_DIR/$HOST/ovsdb-server.pid) \$(cat $TEST_DIR/rdb/region.pid)"
    exit 0
fi
# The demo checks nothing (finish() would fail it for that): stop what it
# started, by pid file, and remove the sandbox.
stop_all
rm -rf "$TEST_DIR"

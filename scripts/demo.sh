#!/usr/bin/env bash
# The README's main job: start a sandboxed Open vSwitch (ovsdb-server and
# ovs-vswitchd with the dummy datapath, in a temp dir), apply the example
# region to host-a, show its flows and a few annotated traces, then stop.
#
#   REGION=examples/peering.json HOST=host-a make demo   # another example
#   KEEP=1 make demo      # leave the sandbox running and say how to use it
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/lib.sh"
REGION=${REGION:-$TOP/examples/region.json}
HOST=${HOST:-host-a}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Validating $REGION"
"$VPCCTL" validate "$REGION" || exit 1

say "Starting a sandboxed OVS for $HOST in $TEST_DIR/$HOST"
ovs_start "$HOST"
ip=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([h["underlay_ip"] for h in d["hosts"] if h["id"]==sys.argv[2]][0])' "$REGION" "$HOST")
sandbox_host "$HOST" "$ip"
port=1
for eni in $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(e["id"] for e in d["enis"] if e["host"]==sys.argv[2]))' "$REGION" "$HOST"); do
    sandbox_vm "$HOST" "vm$port" "$port" "$eni"
    echo "  plugged $eni into br-int port vm$port (ofport $port)"
    port=$((port + 1))
done

say "Applying $HOST's flows (one atomic OpenFlow bundle)"
vpcctl_on "$HOST" apply "$REGION" --host "$HOST"
say "Applying again: only differences are sent, so nothing changes"
vpcctl_on "$HOST" apply "$REGION" --host "$HOST"

say "Flows per stage on br-int"
vpcctl_on "$HOST" compile "$REGION" --host "$HOST" 2>/dev/null \
    | awk '/^# table/ {t=$0; next} {n[t]++} END {for (t in n) print n[t], t}' \
    | sort -t: -k1.9n | sed 's/# //'

say "A few flows, with the intent that made each one (vpcctl compile --annotate)"
vpcctl_on "$HOST" compile "$REGION" --host "$HOST" --annotate 2>/dev/null \
    | grep -A1 -E '^#   from (sg-web ingress\[0\]|rtb-web routes\[0\])' | head -8

trace() {
    say "Trace: $1"
    vpcctl_on "$HOST" trace "$REGION" --host "$HOST" "$1" \
        | grep -E '^ *\[|^Verdict|^Datapath'
}
if [ "$REGION" = "$TOP/examples/region.json" ] && [ "$HOST" = host-a ]; then
    trace 'from eni-client-a to 10.10.1.10 tcp dport 443'    # allowed by sg-web
    trace 'from eni-client-a to 10.10.1.10 tcp dport 22'     # denied by sg-web
    trace 'from eni-web-a to 10.10.2.10 tcp dport 8080'      # remote: Geneve
    trace 'from eni-red-a to 10.0.1.20'                      # red's 10.0.1.20
    trace 'from eni-blue-a to 10.0.1.20'                     # blue's: other VNI
    trace 'from eni-red-a to 10.10.1.10'                     # isolated VPC
fi

if [ -n "${KEEP:-}" ]; then
    say "Sandbox left running. Try:"
    echo "  export OVS_RUNDIR=$TEST_DIR/$HOST"
    echo "  $OVS/utilities/ovs-ofctl -O OpenFlow15 dump-flows br-int"
    echo "  $VPCCTL trace $REGION --host $HOST 'from eni-web-a to 10.10.2.10 tcp dport 8080'"
    echo "  stop: kill \$(cat $TEST_DIR/$HOST/ovs-vswitchd.pid) \$(cat $TEST_DIR/$HOST/ovsdb-server.pid)"
    exit 0
fi
finish

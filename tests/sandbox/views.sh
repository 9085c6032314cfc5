#!/usr/bin/env bash
# Sandbox: vpcctl's views (docs/vpcctl.md, "Views"): describe, show,
# routes and graph on every example, from the file and from a real region
# database (ovsdb-server) holding it, and compile without a switch on
# every host and edge of every example.  JSON is checked against
# schema/views.schema.json and against the document (ids, counts); DOT
# must parse with Graphviz.  The mapping mode does not matter here.
. "$(dirname "$0")/../lib.sh"

for tool in ovsdb-server ovsdb-client ovsdb-tool jq dot python3; do
    command -v "$tool" >/dev/null || skip "no $tool"
done
# The first python3 with jsonschema: Debian's (python3-jsonschema) may
# not be the one first in PATH.
PY=
for py in python3 /usr/bin/python3; do
    "$py" -c 'import jsonschema' 2>/dev/null && { PY=$py; break; }
done
[ -n "$PY" ] \
    || skip "no python3 jsonschema (scripts/deps.sh installs python3-jsonschema)"
# No switch anywhere: the default OVSDB socket is in an empty directory.
export OVS_RUNDIR=$TEST_DIR/no-switch
mkdir -p "$OVS_RUNDIR"
SCHEMA=$TOP/schema/views.schema.json
EX=$TOP/examples
V() { "$VPCCTL" "$@"; }

# valid WHAT: the JSON on stdin is kept, to be checked against the views
# schema by valid_run (one python3 for all of them).
N_VALID=0
mkdir -p "$TEST_DIR/valid"
valid() {
    N_VALID=$((N_VALID + 1))
    cat > "$TEST_DIR/valid/$N_VALID.json"
    printf '%s\n' "$1" > "$TEST_DIR/valid/$N_VALID.what"
}
valid_run() {
    "$PY" - "$SCHEMA" "$TEST_DIR/valid" <<'PY' | while IFS= read -r line; do
import json, os, sys, jsonschema
schema = json.load(open(sys.argv[1]))
d = sys.argv[2]
for n in sorted(int(f[:-5]) for f in os.listdir(d) if f.endswith(".json")):
    what = open(f"{d}/{n}.what").read().strip()
    try:
        jsonschema.validate(json.load(open(f"{d}/{n}.json")), schema)
        print(f"ok {what}")
    except Exception as e:
        print(f"FAIL {what}: {str(e).splitlines()[0]}")
PY
        case $line in
            ok\ *) pass "${line#ok }" ;;
            *) fail "${line#FAIL }" ;;
        esac
    done
    rm -f "$TEST_DIR"/valid/*
}

# The describe kinds (vpcctl help), by the collection each shows.
declare -A KIND_OF=()
for k in $(V help | sed -n 's/^describe kinds: //p' | tr -d ','); do
    KIND_OF[$(V describe "$EX/lpm.json" "$k" --format=json | jq -r .collection)]=$k
done
[ "${#KIND_OF[@]}" -ge 15 ] && pass "describe knows ${#KIND_OF[@]} kinds" \
    || fail "describe knows ${#KIND_OF[@]} kinds: ${!KIND_OF[*]}"

echo "describe, show, routes, graph of every example:"
for ex in "$EX"/*.json; do
    name=$(basename "$ex" .json)
    # Every collection of the document, under its describe name.
    for key in $(jq -r 'to_entries[] | select(.value | type == "array")
                        | .key' "$ex"); do
        kind=${KIND_OF[$key]:-}
        if [ -z "$kind" ]; then
            fail "$name: no describe kind for collection $key"; continue
        fi
        V describe "$ex" "$kind" --format=json > "$TEST_DIR/d.json" \
            || { fail "$name: describe $kind failed"; continue; }
        valid "$name: describe $kind: JSON matches the schema" \
            < "$TEST_DIR/d.json"
        diff <(jq -r ".${key}[].id" "$ex") \
             <(jq -r '.items[].id' "$TEST_DIR/d.json") >/dev/null \
            && pass "$name: describe $kind lists the document's ids, in order" \
            || fail "$name: describe $kind: ids differ from \$.${key}"
        V describe "$ex" "$kind" | head -1 \
            | expect "$name: describe $kind (text) counts them" \
                "^$kind: $(jq ".${key} | length" "$ex")\$"
    done
    V show "$ex" --format=json > "$TEST_DIR/show.json" \
        || fail "$name: show failed"
    valid "$name: show: JSON matches the schema" < "$TEST_DIR/show.json"
    python3 -m json.tool "$TEST_DIR/show.json" >/dev/null \
        && pass "$name: show's JSON parses (json.tool)" \
        || fail "$name: show's JSON does not parse"
    # Each VPC's ENIs, by subnet, are the document's.
    want=$(jq -r '. as $d | .vpcs[].id as $v | [$d.subnets[]
                  | select(.vpc == $v) | .id] as $s
                  | "\($v) \([$d.enis[] | select(.subnet | IN($s[]))]
                  | length)"' "$ex")
    got=$(jq -r '.vpcs[] | "\(.id) \([.subnets[].network_interfaces[]]
                 | length)"' "$TEST_DIR/show.json")
    [ "$want" = "$got" ] && pass "$name: show: ENIs per VPC ($(tr '\n' ' ' <<<"$got"))" \
        || fail "$name: show: ENIs per VPC: got '$got', want '$want'"
    V show "$ex" | expect "$name: show (text) has every VPC" \
        "^vpc $(jq -r '.vpcs[-1].id' "$ex") "
    for s in $(jq -r '.subnets[].id' "$ex"); do
        V routes "$ex" "$s" --format=json > "$TEST_DIR/r.json" \
            || fail "$name: routes $s failed"
        valid "$name: routes $s: JSON matches the schema" < "$TEST_DIR/r.json"
    done
    V graph "$ex" > "$TEST_DIR/g.dot" || fail "$name: graph failed"
    expect "$name: graph: DOT parses (dot -Tsvg exit 0)" '<svg' \
        dot -Tsvg "$TEST_DIR/g.dot"
    n_enis=$(jq '.enis | length' "$ex")
    [ "$(grep -c 'shape=ellipse' "$TEST_DIR/g.dot")" = "$n_enis" ] \
        && pass "$name: graph: one node per ENI ($n_enis)" \
        || fail "$name: graph: $(grep -c 'shape=ellipse' "$TEST_DIR/g.dot") ENI nodes, want $n_enis"
    expect "$name: graph --format=svg writes SVG" '</svg>' \
        V graph "$ex" --format=svg
done

valid_run
[ "$(grep -c 'matches the schema' "$CHECKS_FILE")" -ge 50 ] \
    && pass "every example's JSON was checked against the schema" \
    || fail "only $(grep -c 'matches the schema' "$CHECKS_FILE") schema checks ran"

echo "specific answers:"
V describe "$EX/web-tier.json" vpcs vpc-web --format=json \
    | jq -r '.items[0].eni_count' | expect "vpc-web has 4 ENIs" '^4$'
V describe "$EX/region.json" network-interfaces eni-app-b \
    | expect "eni-app-b: its VPC, derived" '^    vpc: vpc-web$'
V describe "$EX/region.json" network-interfaces eni-app-b \
    | expect "eni-app-b: its instance id, derived" \
        "^    instance_id: i-$(printf %s eni-app-b | sha1sum | cut -c1-17)\$"
V describe "$EX/web-tier.json" security-groups sg-web \
    | expect "sg-web: its members" '^    members: eni-web-a, eni-web-b$'
V describe "$EX/edge.json" nat-gateways nat-shop --format=json \
    | jq -r '.items[0] | "\(.vpc) \(.edge) \(.vni)"' \
    | expect "nat-shop: VPC and edge resolved, VNI 0xF00001" \
        '^vpc-shop edge-1 15728641$'
V describe "$EX/peering.json" vpc-peering-connections \
    | expect "peering connections under their AWS name" '^pcx-ab$'
V describe "$EX/lpm.json" route-tables rtb-public \
    | expect "rtb-public: its association" '^    associations: subnet-public$'
V show "$EX/region.json" \
    | expect "show: host-a holds 4 ENIs" \
        '^host host-a \(192\.168\.100\.1\): 4 ENIs: eni-red-a, eni-blue-a, eni-web-a, eni-client-a$'
V show "$EX/web-tier.json" | grep -A2 '^        eni eni-web-a on host-a$' \
    | expect "show: eni-web-a's addresses and group" \
        'ip 10\.10\.1\.10, elastic ip 203\.0\.113\.10'
V show "$EX/peering.json" \
    | expect "show: vpc-a's peering" '^    peering pcx-ab with vpc-b \(requester\)$'

# lpm.json, from subnet-src (examples/README.md's table).
V routes "$EX/lpm.json" subnet-src --format=json > "$TEST_DIR/r.json"
jq -r '.routes[] | "\(.destination) \(.target) \(.state)"' "$TEST_DIR/r.json" \
    | tr '\n' ';' | expect "lpm: subnet-src's routes, longest prefix first" \
    '^10\.0\.2\.0/24 local active;10\.0\.1\.50/32 eni-appliance active;10\.0\.1\.0/24 nat-lpm active;10\.0\.0\.0/16 local active;10\.0\.0\.0/8 vgw-lpm active;0\.0\.0\.0/0 igw-lpm active;$'
jq -r '.routes[2].resolves_to | "\(.kind) \(.gateway) \(.edge)"' "$TEST_DIR/r.json" \
    | expect "lpm: 10.0.1.0/24 resolves to nat-lpm on edge-1" '^gateway nat-lpm edge-1$'
for probe in "10.0.1.50 delivered eni-appliance" "10.0.1.60 gateway nat-lpm" \
             "10.0.2.20 delivered eni-src-b" "10.0.3.7 dropped null" \
             "10.99.0.1 gateway vgw-lpm" "8.8.8.8 gateway igw-lpm"; do
    set -- $probe
    V routes "$EX/lpm.json" subnet-src "$1" --format=json \
        | jq -r '.lookup | "\(.verdict) \(.eni // .gateway)"' \
        | expect "lpm: $1 from subnet-src: $2 $3" "^$2 $3\$"
done
V routes "$EX/lpm.json" subnet-dst 8.8.8.8 \
    | expect "lpm: subnet-dst has no route to 8.8.8.8" '^8\.8\.8\.8: dropped: no route$'
V routes "$EX/lpm.json" subnet-dst --format=json \
    | jq -r '"\(.association) \(.route_table) \(.routes | length)"' \
    | expect "lpm: subnet-dst: no table, the subnet and the local route" \
        '^none null 2$'
# Azure: the static route equal to the VPC block shadows the local one,
# and static beats propagated.
V routes "$EX/azure-precedence.json" subnet-spoke --format=json \
    | jq -r '.routes[] | "\(.destination) \(.target) \(.origin) \(.shadowed_by)"' \
    | tr '\n' ';' | expect "azure: local and propagated routes shadowed" \
    '10\.20\.0\.0/16 eni-appliance static null;10\.20\.0\.0/16 local system 1;172\.16\.0\.0/12 eni-appliance static null;172\.16\.0\.0/12 vgw-az propagated 3;'
# A blackhole route.
jq '(.route_tables[] | select(.id == "rtb-web") | .routes[0].target) = "blackhole"' \
    "$EX/web-tier.json" > "$TEST_DIR/blackhole.json"
V routes "$TEST_DIR/blackhole.json" subnet-web --format=json \
    | jq -r '.routes[] | select(.destination == "0.0.0.0/0") | "\(.target) \(.state)"' \
    | expect "a blackhole route's state is blackhole" '^blackhole blackhole$'
V routes "$EX/web-tier.json" subnet-web --format=json \
    | jq -r '.routes[] | select(.destination == "0.0.0.0/0") | "\(.target) \(.state)"' \
    | expect "... and igw-web's is active" '^igw-web active$'
V routes "$EX/peering.json" subnet-a 10.2.1.20 \
    | expect "peering: 10.2.1.20 from subnet-a reaches eni-b2 through pcx-ab" \
        'route #[0-9]+ \(10\.2\.0\.0/16 -> pcx-ab\): delivered to eni-b2 on host-b'

echo "errors:"
expect_status "an unknown kind is a usage error" 2 V describe "$EX/lpm.json" things
expect_status "an unknown id fails" 1 V describe "$EX/lpm.json" vpcs vpc-nope
V describe "$EX/lpm.json" vpcs vpc-nope 2>&1 \
    | expect "  and names it" 'no such VPC'
expect_status "a bad --format is a usage error" 2 V show "$EX/lpm.json" --format=yaml
expect_status "graph takes dot or svg only" 2 V graph "$EX/lpm.json" --format=json
expect_status "an unknown subnet fails" 1 V routes "$EX/lpm.json" subnet-nope
expect_status "an invalid document fails" 1 V show "$EX/invalid/fields.json"
V show "$EX/invalid/fields.json" 2>&1 \
    | expect "  with its errors" 'errors?:'

echo "compile without a switch:"
for ex in "$EX"/*.json; do
    name=$(basename "$ex" .json)
    for h in $(jq -r '(.hosts // [])[].id, (.edges // [])[].id' "$ex"); do
        out=$(V compile "$ex" --host "$h" 2>"$TEST_DIR/err"); rc=$?
        if [ "$rc" -ne 0 ] && [ "$(jq --arg h "$h" '[.edges[]? | select(.id == $h
                and (.uplink_gateway_mac | not))] | length' "$ex")" = 1 ] \
           && grep -q 'has no uplink_gateway_mac' "$TEST_DIR/err"; then
            # The example's edge lacks what its internet gateway needs: a
            # property of the document, with or without a switch.
            pass "$name: compile --host $h: refused for the document, not for want of a switch"
            continue
        fi
        if [ "$rc" -ne 0 ]; then
            out=$(cat "$TEST_DIR/err")
            fail "$name: compile --host $h without a switch: exit $rc"
            sed 's/^/       | /' <<<"$out" | tail -5; continue
        fi
        n_local=$(jq --arg h "$h" '[.enis[] | select(.host == $h)] | length' "$ex")
        first=$(head -1 <<<"$out")
        nb=$(grep -o ' eni-[^ ;]*=[0-9]*' <<<"$first" | wc -l)
        if grep -q '^# offline, no switch' <<<"$first" && [ "$nb" = "$n_local" ] \
           && grep -q '^table=' <<<"$out"; then
            pass "$name: compile --host $h: offline, $n_local ENIs numbered, flows"
        else
            fail "$name: compile --host $h: '$first' ($nb of $n_local ENIs)"
        fi
    done
done
V compile "$EX/web-tier.json" --host host-a --annotate > "$TEST_DIR/c.flows" 2>/dev/null
head -1 "$TEST_DIR/c.flows" | expect "web-tier host-a: ENI order, then the tunnel" \
    'ofports assigned in ENI order: eni-web-a=1 eni-client-a=2; tunnel=3$'
grep -A1 'from sg-web ingress\[0\]' "$TEST_DIR/c.flows" \
    | expect "the README's sg_in flow" \
        'table=[0-9]+, priority=100, cookie=0x2f44538052070e5b, .*reg4=1,tcp,tcp_dst=443'
grep -c 'in_port=1 ' "$TEST_DIR/c.flows" \
    | expect "eni-web-a's flows match in_port=1" '^[1-9]'
V compile "$EX/web-tier.json" --host host-a --bind eni-web-a=7 \
    > "$TEST_DIR/c.flows" 2>/dev/null
head -1 "$TEST_DIR/c.flows" \
    | expect "--bind keeps its port, the rest take the lowest free" \
        'eni-web-a=7 \(--bind\) eni-client-a=1; tunnel=2$'
expect "  and eni-web-a's flows match in_port=7" 'in_port=7 ' \
    cat "$TEST_DIR/c.flows"
V compile "$EX/edge.json" --host edge-1 --uplink-port 9 2>/dev/null \
    | head -1 | expect "an edge: tunnel, then its other ports, given ones kept" \
        'tunnel=1 uplink=9 \(given\) dx=2 vpn=3$'
expect_status "--db names a switch: no offline fallback" 1 \
    V compile "$EX/web-tier.json" --host host-a --db "unix:$OVS_RUNDIR/nope.sock"
expect_status "an unknown host still fails" 1 \
    V compile "$EX/web-tier.json" --host host-z

echo "--region-db: the same views from a real region database:"
DB=$TEST_DIR/regiondb
trap 'pid_stop "$DB/region.pid"; exit 143' INT TERM
regiondb_start "$DB"
# The database keeps lists sorted and drops empty ones (docs/regiondb.md):
# compare both sides through the same normalization.
# A route's "ref" names its index in its table's "routes", which the
# database stores sorted: the same route, another index.
norm() { jq 'del(.routes[]?.ref)' | json_norm /dev/stdin; }
for ex in "$EX/region.json" "$EX/lpm.json" "$EX/edge.json"; do
    name=$(basename "$ex" .json)
    V --region-db="$REGION_DB" load "$ex" >/dev/null \
        || { fail "$name: load failed"; continue; }
    # same WHAT ARGS...: vpcctl ARGS on FILE and on --region-db print the
    # same (normalized, nonempty) JSON.
    same() {
        local what=$1 cmd=$2; shift 2
        V "$cmd" "$ex" "$@" --format=json | norm > "$TEST_DIR/file.out"
        V --region-db="$REGION_DB" "$cmd" "$@" --format=json | norm \
            > "$TEST_DIR/db.out"
        if [ ! -s "$TEST_DIR/file.out" ] || [ ! -s "$TEST_DIR/db.out" ]; then
            fail "$name: $what: no output"
        elif diff "$TEST_DIR/file.out" "$TEST_DIR/db.out" > "$TEST_DIR/diff"; then
            pass "$name: $what: --region-db equals FILE"
        else
            fail "$name: $what: --region-db differs"; head "$TEST_DIR/diff"
        fi
    }
    same "show" show
    V --region-db="$REGION_DB" show --format=json \
        | valid "$name: show --region-db: JSON matches the schema"
    valid_run
    same "describe network-interfaces" describe network-interfaces
    same "describe route-tables" describe route-tables
    s=$(jq -r '.subnets[-1].id' "$ex")
    same "routes $s" routes "$s"
    expect "$name: graph --region-db parses" '<svg' \
        sh -c "'$VPCCTL' --region-db='$REGION_DB' graph | dot -Tsvg"
done
V --region-db="$REGION_DB" describe vpcs vpc-shop \
    | expect "describe --region-db takes KIND ID, no FILE" '^    eni_count: 3$'
V --region-db="$REGION_DB" routes subnet-private 52.216.1.1 \
    | expect "routes --region-db: S3 through vpce-s3 (prefix list)" \
        'out through vpce-s3 on edge edge-1'
pid_stop "$DB/region.pid"
finish

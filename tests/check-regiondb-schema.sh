#!/usr/bin/env bash
# tests/check-regiondb-schema.sh SCHEMA: the region database's OVSDB schema
# (build/regiondb/region.ovsschema, generated from schema/) agrees with
# schema/region.schema.json, the pinned ovsdb-tool accepts it, and the
# agreement check notices each kind of disagreement (so that it can fail).
. "$(dirname "$0")/lib.sh"

SCHEMA=${1:-$TOP/build/regiondb/region.ovsschema}
GEN=(python3 "$TOP/schema/regiondb-gen.py" check
     "$TOP/schema/region.schema.json" "$TOP/schema/region.ann.json")
echo "region database schema:"

out=$("${GEN[@]}" "$SCHEMA" 2>&1) \
    && pass "$(basename "$SCHEMA") agrees with region.schema.json" \
    || { fail "schema disagrees"; sed 's/^/       | /' <<<"$out"; }
ovsdb-tool create "$TEST_DIR/region.db" "$SCHEMA" \
    && pass "ovsdb-tool creates a database from it ($(ovsdb-tool \
            schema-name "$SCHEMA") $(ovsdb-tool schema-version "$SCHEMA"))" \
    || fail "ovsdb-tool rejects $SCHEMA"

# mutant NAME PYTHON-EXPR EXPECTED: the check fails on the schema changed by
# PYTHON-EXPR (on 't', the tables) and names the disagreement.
mutant() {
    local name=$1 expr=$2 want=$3 m=$TEST_DIR/mutant.ovsschema
    python3 -c "
import json, sys
s = json.load(open(sys.argv[1])); t = s['tables']
$expr
json.dump(s, open(sys.argv[2], 'w'))" "$SCHEMA" "$m"
    out=$("${GEN[@]}" "$m" 2>&1); rc=$?
    if [ $rc -ne 0 ] && grep -q -- "$want" <<<"$out"; then
        pass "the check fails on $name"
    else
        fail "the check misses $name (exit $rc, no '$want')"
        sed 's/^/       | /' <<<"$out"
    fi
}
mutant "a missing column" "del t['ENI']['columns']['mac']" \
    "ENI: field mac of eni has no column"
mutant "a wrong type" \
    "t['VPC']['columns']['vni']['type']['key']['maxInteger'] = 16777215" \
    "VPC.vni: maxInteger must be 15728639"
mutant "a reference to the wrong table" \
    "t['Subnet']['columns']['vpc']['type']['key']['refTable'] = 'Subnet'" \
    "Subnet.vpc: must reference VPC"
mutant "a weak reference" \
    "t['ENI']['columns']['subnet']['type']['key']['refType'] = 'weak'" \
    "reference to Subnet must be strong"
mutant "an optional required field" \
    "t['ENI']['columns']['private_ip']['type'] = {'key': 'string', 'min': 0, 'max': 1}" \
    "ENI.private_ip: must have min 1 max 1"
mutant "a column without a field" \
    "t['Host']['columns']['rack'] = {'type': 'string'}" \
    "Host: column rack has no field"
mutant "a nested list in a root table" \
    "t['Route_Entry']['isRoot'] = True" "Route_Entry must not be a root"
mutant "a wrong enum" \
    "t['VPC']['columns']['route_precedence']['type']['key']['enum'] = ['set', ['aws']]" \
    "VPC.route_precedence: must be a string enum"
mutant "a missing id index" "t['ENI']['indexes'] = [['mac']]" \
    "ENI: must have an index on id"
# The OVSDB-only tables that ovsdb-server reads itself (RBAC, remotes):
# no field of the document, but the columns ovsdb-server looks up by name.
mutant "a missing RBAC_Role table" "del t['RBAC_Role']" \
    "table RBAC_Role is missing (ovsdb-server reads it)"
mutant "a Connection without a role" "del t['Connection']['columns']['role']" \
    "Connection: column role is missing"
mutant "an RBAC_Permission update that is not a set" \
    "t['RBAC_Permission']['columns']['update']['type'] = 'string'" \
    "RBAC_Permission.update: must be"
mutant "Region.connections to the wrong table" \
    "t['Region']['columns']['connections']['type']['key']['refTable'] = 'Host'" \
    "Region.connections: must reference Connection"
for t in Connection RBAC_Role RBAC_Permission; do
    jq -e --arg t "$t" '.tables[$t]' "$SCHEMA" >/dev/null \
        && pass "$t is in the schema (OVSDB-only: no field of the document)" \
        || fail "$t is not in the schema"
done
mutant "a missing derived column" \
    "del t['Route_Entry']['columns']['vpc']" \
    "Route_Entry: derived column vpc is missing"
mutant "a derived column that references the wrong table" \
    "t['ENI']['columns']['vpc']['type']['key']['refTable'] = 'Subnet'" \
    "ENI.vpc: derived column must reference VPC"
mutant "an optional derived VPC of a root table" \
    "t['ENI']['columns']['vpc']['type']['min'] = 0" \
    "ENI.vpc: derived column must have min 1 max 1"
# The stamps (VPC.cfg, Region.global_cfg): OVSDB-only, one integer each.
mutant "a missing VPC stamp" "del t['VPC']['columns']['cfg']" \
    "VPC: stamp column cfg is missing"
mutant "a missing global stamp" "del t['Region']['columns']['global_cfg']" \
    "Region: stamp column global_cfg is missing"
mutant "an optional stamp" \
    "t['VPC']['columns']['cfg']['type'] = {'key': 'integer', 'min': 0, 'max': 1}" \
    "VPC.cfg: stamp column must be one integer"

# And from the other side: a field added to the JSON Schema but not to the
# OVSDB schema.
python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
s['\$defs']['eni']['properties']['placement_group'] = {'type': 'string'}
json.dump(s, open(sys.argv[2], 'w'))" "$TOP/schema/region.schema.json" \
    "$TEST_DIR/region.schema.json"
out=$(python3 "$TOP/schema/regiondb-gen.py" check "$TEST_DIR/region.schema.json" \
      "$TOP/schema/region.ann.json" "$SCHEMA" 2>&1) \
    && fail "the check misses a new JSON Schema field" \
    || expect "the check fails on a new JSON Schema field" \
        "field placement_group of eni has no column" <<<"$out"
finish

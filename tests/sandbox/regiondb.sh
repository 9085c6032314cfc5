#!/usr/bin/env bash
# Sandbox: the region database (docs/regiondb.md).  A real ovsdb-server
# serves a database created by ovsdb-tool from the generated schema;
# 'vpcctl --region-db load' and 'dump' round-trip every valid example; a
# modified document changes only its rows; an invalid one commits nothing;
# the schema's references and indexes hold against direct writes.  The
# mapping mode does not matter here.
. "$(dirname "$0")/../lib.sh"

for tool in ovsdb-server ovsdb-client ovsdb-tool jq; do
    command -v "$tool" >/dev/null || { echo "  skip: no $tool"; exit 77; }
done
DB=$TEST_DIR/regiondb
trap 'pid_stop "$DB/region.pid"; exit 143' INT TERM
regiondb_start "$DB"
rdb() { "$VPCCTL" --region-db="$REGION_DB" "$@"; }
cfg() {
    ovsdb-client transact "$REGION_DB" '["OVS_VPC_Region", {"op": "select",
        "table": "Region", "where": [], "columns": ["cfg"]}]' \
        | jq '.[0].rows[0].cfg // 0'
}

echo "load + dump of every valid example (each replacing the last):"
for ex in "$TOP"/examples/*.json; do
    name=$(basename "$ex")
    "$VPCCTL" validate "$ex" >/dev/null 2>&1 || continue
    before=$(cfg)
    out=$(rdb load "$ex" 2>&1) || { fail "$name: load failed"; echo "$out"; continue; }
    rdb dump > "$DB/dump.json" || fail "$name: dump failed"
    if diff <(json_norm "$ex") <(json_norm "$DB/dump.json") > "$DB/diff"; then
        pass "$name: dump equals the document"
    else
        fail "$name: dump differs from the document"; head -20 "$DB/diff"
    fi
    [ "$(cfg)" = $((before + 1)) ] && pass "$name: cfg $before -> $((before + 1))" \
        || fail "$name: cfg $(cfg) after $before"
    "$VPCCTL" validate "$DB/dump.json" >/dev/null \
        && pass "$name: the dump validates" || fail "$name: the dump is invalid"
done
# Flow logs (docs/flow-logs.md): the resource is one of three reference
# columns, chosen by the id's prefix; the derived vpc column is the
# resource's VPC.
jq '.flow_logs = [{"id": "fl-eni", "resource": "eni-web-a", "traffic_type": "ALL"},
                  {"id": "fl-subnet", "resource": "subnet-app", "traffic_type": "REJECT",
                   "max_aggregation_interval": 60},
                  {"id": "fl-vpc", "resource": "vpc-web", "traffic_type": "ACCEPT",
                   "description": "the whole VPC"}]' \
    "$TOP/examples/web-tier.json" > "$DB/flow-logs.json"
rdb load "$DB/flow-logs.json" >/dev/null && rdb dump > "$DB/dump.json"
diff <(json_norm "$DB/flow-logs.json") <(json_norm "$DB/dump.json") >/dev/null \
    && pass "flow logs of an ENI, a subnet and a VPC round-trip" \
    || fail "flow logs do not round-trip"
ovsdb-client transact "$REGION_DB" '["OVS_VPC_Region",
    {"op": "select", "table": "Flow_Log", "where": [], "columns": ["id", "vpc"]},
    {"op": "select", "table": "VPC", "where": [["id", "==", "vpc-web"]], "columns": ["_uuid"]}]' \
    | jq -r '(.[1].rows[0]._uuid[1]) as $v | [.[0].rows[] | select(.vpc[1] == $v)] | length' \
    | expect "  each Flow_Log row's vpc column is vpc-web" '^3$'

# Protocol numbers next to names ("tcp" and 6, "-1" and -1 are different
# columns), an integral real (1010.0 is the integer 1010), a repeated id in a
# list (kept once: lists of ids and prefixes are sets).
jq '.security_groups[0].egress[0].protocol = -1
    | .security_groups[0].ingress[0].protocol = 6
    | .network_acls[0].ingress[0].protocol = 17 | .vpcs[0].vni = 1010.0
    | .enis[0].security_groups += .enis[0].security_groups' \
    "$TOP/examples/web-tier.json" > "$DB/numbers.json"
rdb load "$DB/numbers.json" >/dev/null && rdb dump > "$DB/dump.json"
diff <(jq '.enis[0].security_groups |= unique' "$DB/numbers.json" | json_norm /dev/stdin) \
     <(json_norm "$DB/dump.json") >/dev/null \
    && pass "protocol numbers, 1010.0 and a repeated id round-trip" \
    || fail "protocol numbers, 1010.0 or a repeated id do not round-trip"
jq -c '.security_groups[] | select(.id == "sg-web") | .egress[0].protocol' \
    "$DB/dump.json" | expect "  -1 stays a number" '^-1$'

# Loading the same document again changes no row but the root's cfg.
rdb load "$TOP/examples/web-tier.json" >/dev/null
v1=$(regiondb_versions "$REGION_DB")
rdb load "$TOP/examples/web-tier.json" \
    | expect "a second load inserts, updates and deletes nothing" \
        '0 rows inserted, 0 updated, 0 deleted'
diff <(echo "$v1") <(regiondb_versions "$REGION_DB") | grep '^[<>]' \
    | expect_not "  and only Region's _version changes" '^[<>] [^R]'

echo "a modified document changes only its rows:"
rdb load "$TOP/examples/region.json" >/dev/null
jq '.enis += [{"id": "eni-new", "subnet": "subnet-web", "host": "host-b",
               "mac": "02:00:00:10:01:63", "private_ip": "10.10.1.99",
               "security_groups": ["sg-web"]}]
    | (.security_groups[] | select(.id == "sg-web") | .ingress[0])
        |= (.from_port = 8443 | .to_port = 8443)
    | (.route_tables[] | select(.id == "rtb-web") | .routes[0].target)
        = "blackhole"' "$TOP/examples/region.json" > "$DB/modified.json"
before=$(regiondb_versions "$REGION_DB")
rdb load "$DB/modified.json" \
    | expect "load reports 2 rows inserted, 2 updated, 1 deleted" \
        '2 rows inserted, 2 updated, 1 deleted'
after=$(regiondb_versions "$REGION_DB")
# Rows only in 'after' were inserted or changed; only in 'before', deleted
# or changed (same UUID).
changes=$(join -a1 -a2 -e - -o 0,1.2,2.2 \
    <(awk '{print $1 "/" $2, $3}' <<<"$before" | sort) \
    <(awk '{print $1 "/" $2, $3}' <<<"$after" | sort) \
    | awk '$2 != $3 {
             split($1, t, "/"); what = "changed"
             if ($2 == "-") what = "inserted"
             if ($3 == "-") what = "deleted"
             print t[1], what }' | sort | uniq -c | awk '{print $2, $3, $1}')
want="ENI inserted 1
Region changed 1
Route_Entry changed 1
Security_Group changed 1
Security_Group_Rule deleted 1
Security_Group_Rule inserted 1"
if [ "$changes" = "$want" ]; then
    pass "exactly: the ENI, the rule (replaced), its group's list, the route (in place), Region"
else
    fail "unexpected row changes:"; sed 's/^/       | /' <<<"$changes"
fi
rdb dump > "$DB/dump.json"
diff <(json_norm "$DB/modified.json") <(json_norm "$DB/dump.json") >/dev/null \
    && pass "dump equals the modified document" \
    || fail "dump differs from the modified document"

echo "concurrent loads serialize on Region.cfg (a loser retries):"
c0=$(cfg)
rdb load "$TOP/examples/region.json" > "$DB/l1.out" 2>&1 & p1=$!
rdb load "$TOP/examples/peering.json" > "$DB/l2.out" 2>&1 & p2=$!
rdb load "$TOP/examples/edge.json" > "$DB/l3.out" 2>&1 & p3=$!
rc=0; for p in $p1 $p2 $p3; do wait $p || rc=1; done
[ $rc = 0 ] && pass "three concurrent loads all succeed" \
    || { fail "a concurrent load failed"; cat "$DB"/l?.out; }
[ "$(cfg)" = $((c0 + 3)) ] && pass "cfg went up by 3" || fail "cfg $(cfg), was $c0"
rdb dump > "$DB/dump.json"
last=$(grep -l "cfg $((c0 + 3))," "$DB"/l?.out | head -1)
last_doc=$(sed -n 's/^loaded \([^ ]*\) into.*/\1/p' "${last:-/dev/null}")
[ -n "$last_doc" ] \
    && diff <(json_norm "$last_doc") <(json_norm "$DB/dump.json") >/dev/null \
    && pass "the database holds the last committed one ($(basename "$last_doc"))" \
    || fail "the database holds a mix of documents"
rdb load "$DB/modified.json" >/dev/null
rdb dump > "$DB/dump.json"

echo "an invalid document commits nothing:"
cfg_before=$(cfg)
for bad in "$TOP"/examples/invalid/*.json; do
    name=$(basename "$bad")
    out=$(rdb load "$bad" 2>&1); rc=$?
    [ $rc -ne 0 ] && pass "$name: load fails (exit $rc)" || fail "$name: load succeeded"
    path=$(sed -n 's/^[[:space:]]*\(\$[^:]*\):.*/\1/p' "${bad%.json}.expected" | head -1)
    expect "$name: the error names $path" "$(sed 's/[][$.]/\\&/g' <<<"$path")" <<<"$out"
    diff <("$VPCCTL" validate "$bad" 2>&1 | grep '^  ') <(grep '^  ' <<<"$out") \
        >/dev/null && pass "$name: the errors of 'vpcctl validate'" \
        || fail "$name: other errors than 'vpcctl validate'"
done
rdb dump > "$DB/dump2.json"
cmp -s "$DB/dump.json" "$DB/dump2.json" && pass "dump unchanged" || fail "dump changed"
[ "$(cfg)" = "$cfg_before" ] && pass "cfg unchanged ($cfg_before)" || fail "cfg changed"

echo "the schema holds against direct writes (ovsdb-client transact):"
txn() { ovsdb-client transact "$REGION_DB" "[\"OVS_VPC_Region\", $1]" 2>&1; }
txn '{"op": "delete", "table": "VPC", "where": [["id", "==", "vpc-web"]]}' \
    | expect "deleting a VPC that subnets name fails" \
        'cannot delete VPC row.*referential integrity violation'
txn '{"op": "delete", "table": "Subnet", "where": [["id", "==", "subnet-web"]]}' \
    | expect "deleting a subnet that ENIs name fails" \
        'cannot delete Subnet row.*referential integrity violation'
txn '{"op": "delete", "table": "ENI", "where": [["id", "==", "eni-new"]]}' \
    | expect "deleting an ENI that nothing names works" '"count":1'
mac=$(jq -r '.enis[] | select(.id == "eni-web-a") | .mac' "$TOP/examples/region.json")
txn "{\"op\": \"update\", \"table\": \"ENI\", \"where\": [[\"id\", \"==\", \"eni-web-b\"]],
      \"row\": {\"mac\": \"$mac\"}}" \
    | expect "two ENIs with the same MAC are rejected (index)" \
        'index on column ..mac...*constraint violation'
txn '{"op": "update", "table": "ENI", "where": [["id", "==", "eni-web-b"]],
      "row": {"id": "eni-web-a"}}' \
    | expect "two ENIs with the same id are rejected (index)" \
        'index on column ..id...*constraint violation'
txn '{"op": "update", "table": "VPC", "where": [["id", "==", "vpc-red"]],
      "row": {"vni": 200}}' \
    | expect "two VPCs with the same VNI are rejected (index)" \
        'index on column ..vni...*constraint violation'
txn '{"op": "update", "table": "VPC", "where": [["id", "==", "vpc-red"]],
      "row": {"vni": 16777215}}' \
    | expect "a VNI out of range is rejected" 'constraint violation'

pid_stop "$DB/region.pid"

echo "a 3-member Raft cluster, through the comma-separated remote list:"
CL=$TEST_DIR/cluster
trap 'for i in 1 2 3; do pid_stop "$CL/s$i.pid"; done; exit 143' INT TERM
regiondb_cluster_start "$CL" 3
rdb load "$TOP/examples/region.json" \
    | expect "load through the list finds the leader and commits" \
        'cfg 1, [0-9]+ rows inserted'
# A follower's dump may lag the leader's commit: wait (not a timed check)
# until each member has it.
ok=1
for i in 1 2 3; do
    for _ in $(seq 50); do
        "$VPCCTL" --region-db="unix:$CL/s$i.sock" dump > "$CL/dump$i.json"
        diff <(json_norm "$TOP/examples/region.json") \
             <(json_norm "$CL/dump$i.json") >/dev/null && break
        sleep 0.1
    done
    diff <(json_norm "$TOP/examples/region.json") \
         <(json_norm "$CL/dump$i.json") >/dev/null || ok=0
done
[ $ok = 1 ] && pass "every member, leader or follower, dumps the document" \
    || fail "a member dumps something else"
rdb load "$DB/modified.json" | expect "a second load through the list" 'cfg 2,'
for i in 1 2 3; do pid_stop "$CL/s$i.pid"; done
finish

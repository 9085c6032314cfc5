#!/usr/bin/env bash
# Sandbox: validated object-level writes to the region database
# (docs/regiondb.md, "Object-level writes").  A real ovsdb-server; every
# vpcctl object command does what it says (the dump shows it); a refused
# write prints its PATH: VALUE: RULE line, exits 1 and changes nothing
# (dump and Region.cfg compared); ten writers racing for one IP: exactly
# one commits; --wait returns once the affected hosts' Host_Status rows
# (written here with ovsdb-client, standing in for vpcd) reach the cfg, and
# times out naming the hosts behind.  The mapping mode does not matter.
. "$(dirname "$0")/../lib.sh"

for tool in ovsdb-server ovsdb-client ovsdb-tool jq; do
    command -v "$tool" >/dev/null || skip "no $tool"
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
# dumpq JQ: the dump, filtered.
dumpq() { rdb dump | jq -c "$1"; }
# host_status HOST CFG: HOST reports that it has applied CFG.
host_status() {
    ovsdb-client transact "$REGION_DB" "[\"OVS_VPC_Region\",
        {\"op\": \"delete\", \"table\": \"Host_Status\",
         \"where\": [[\"host\", \"==\", \"$1\"]]},
        {\"op\": \"insert\", \"table\": \"Host_Status\",
         \"row\": {\"host\": \"$1\", \"applied_cfg\": $2}}]" >/dev/null
}

# The region: web-tier.json, two more hosts (host-c with an ENI of a second
# VPC, host-d empty) and that second VPC.
jq '.hosts += [{"id": "host-c", "underlay_ip": "192.168.100.3"},
               {"id": "host-d", "underlay_ip": "192.168.100.4"}]
    | .vpcs += [{"id": "vpc-two", "cidr_blocks": ["10.20.0.0/16"],
                 "vni": 2020}]
    | .subnets += [{"id": "subnet-two", "vpc": "vpc-two",
                    "cidr": "10.20.1.0/24"}]
    | .enis += [{"id": "eni-two", "subnet": "subnet-two",
                 "mac": "02:00:00:20:01:0a", "private_ip": "10.20.1.10",
                 "host": "host-c"}]' "$TOP/examples/web-tier.json" \
    > "$DB/base.json"
rdb load "$DB/base.json" >/dev/null || fail "the base region does not load"

echo "object commands:"
eni_args=(--network-interface-id eni-new --subnet-id subnet-web
          --private-ip-address 10.10.1.50 --mac-address 02:00:00:10:01:50
          --host host-a --groups sg-web)
before=$(cfg)
rdb create-network-interface "${eni_args[@]}" \
    | expect "create-network-interface commits cfg $((before + 1))" \
        "^cfg $((before + 1))$"
dumpq '.enis[] | select(.id == "eni-new") | [.host, .private_ip, .security_groups]' \
    | expect "  the dump has eni-new on host-a" \
        '^\["host-a","10.10.1.50",\["sg-web"\]\]$'
rdb modify-network-interface-attribute --network-interface-id eni-new \
    --host host-b >/dev/null
dumpq '.enis[] | select(.id == "eni-new") | .host' \
    | expect "modify-network-interface-attribute --host moves it" '^"host-b"$'
rdb modify-network-interface-attribute --network-interface-id eni-new \
    --groups sg-web,sg-client --source-dest-check false >/dev/null
dumpq '.enis[] | select(.id == "eni-new") | [.security_groups, .source_dest_check]' \
    | expect "  --groups and --source-dest-check change them" \
        '^\[\["sg-client","sg-web"\],false\]$'
rdb delete-network-interface --network-interface-id eni-new >/dev/null
dumpq '[.enis[] | select(.id == "eni-new")] | length' \
    | expect "delete-network-interface removes it" '^0$'

rdb create-security-group --group-id sg-new --vpc-id vpc-web \
    --description "new group" >/dev/null
dumpq '.security_groups[] | select(.id == "sg-new") | [.vpc, .description]' \
    | expect "create-security-group adds it" '^\["vpc-web","new group"\]$'
rdb authorize-security-group-ingress --group-id sg-new --protocol tcp \
    --port 22 --cidr 10.0.0.0/8 >/dev/null
rdb authorize-security-group-ingress --group-id sg-new --protocol tcp \
    --from-port 8000 --to-port 8080 --source-group sg-web >/dev/null
rdb authorize-security-group-egress --group-id sg-new --protocol -1 \
    --cidr 0.0.0.0/0 >/dev/null
dumpq '.security_groups[] | select(.id == "sg-new") | [.ingress, .egress]' \
    | expect "authorize-security-group-ingress/egress add the rules" \
        '^\[\[\{"cidr":"10.0.0.0/8","from_port":22,"protocol":"tcp","to_port":22\},\{"from_port":8000,"protocol":"tcp","security_group":"sg-web","to_port":8080\}\],\[\{"cidr":"0.0.0.0/0","protocol":"-1"\}\]\]$'
expect_status "  the same rule again is refused" 1 \
    rdb authorize-security-group-ingress --group-id sg-new --protocol tcp \
        --port 22 --cidr 10.0.0.0/8
rdb revoke-security-group-ingress --group-id sg-new --protocol tcp \
    --port 22 --cidr 10.0.0.0/8 >/dev/null
rdb revoke-security-group-egress --group-id sg-new --protocol -1 \
    --cidr 0.0.0.0/0 >/dev/null
dumpq '.security_groups[] | select(.id == "sg-new") | [(.ingress | length), (.egress // [] | length)]' \
    | expect "revoke-security-group-ingress/egress remove them" '^\[1,0\]$'
expect_status "  revoking a rule that is not there is refused" 1 \
    rdb revoke-security-group-ingress --group-id sg-new --protocol udp \
        --port 53 --cidr 10.0.0.0/8
rdb delete-security-group --group-id sg-new >/dev/null
dumpq '[.security_groups[] | select(.id == "sg-new")] | length' \
    | expect "delete-security-group removes it" '^0$'

rdb create-route --route-table-id rtb-web --destination-cidr-block \
    10.99.0.0/16 --target blackhole >/dev/null
dumpq '.route_tables[] | select(.id == "rtb-web") | [.routes[] | select(.destination == "10.99.0.0/16") | .target]' \
    | expect "create-route adds the route" '^\["blackhole"\]$'
expect_status "  a second route to it is refused" 1 \
    rdb create-route --route-table-id rtb-web --destination-cidr-block \
        10.99.0.0/16 --target eni-web-a
rdb replace-route --route-table-id rtb-web --destination-cidr-block \
    10.99.0.0/16 --target eni-web-a >/dev/null
dumpq '.route_tables[] | select(.id == "rtb-web") | [.routes[] | select(.destination == "10.99.0.0/16") | .target]' \
    | expect "replace-route retargets it" '^\["eni-web-a"\]$'
rdb delete-route --route-table-id rtb-web --destination-cidr-block \
    10.99.0.0/16 >/dev/null
dumpq '.route_tables[] | select(.id == "rtb-web") | [.routes[] | select(.destination == "10.99.0.0/16")] | length' \
    | expect "delete-route removes it" '^0$'

rdb create-vpc-peering-connection --vpc-peering-connection-id pcx-new \
    --vpc-id vpc-web --peer-vpc-id vpc-two >/dev/null
dumpq '.peering_connections[] | select(.id == "pcx-new") | [.requester_vpc, .accepter_vpc]' \
    | expect "create-vpc-peering-connection adds it" '^\["vpc-web","vpc-two"\]$'
rdb delete-vpc-peering-connection --vpc-peering-connection-id pcx-new \
    >/dev/null
dumpq '[.peering_connections[]? | select(.id == "pcx-new")] | length' \
    | expect "delete-vpc-peering-connection removes it" '^0$'

# A protocol number in a string, as the AWS CLI writes it, is stored as
# written and means tcp (the column takes it; the translator checks it).
echo '{"id": "sg-awscli", "vpc": "vpc-web", "ingress": [{"protocol": "6",
       "from_port": 8443, "to_port": 8443, "cidr": "10.0.0.0/8"}]}' \
    | rdb put security_groups - >/dev/null
rdb get security_groups sg-awscli | jq -c '.ingress[0] | [.protocol, .from_port]' \
    | expect 'put of a rule with protocol "6"' '^\["6",8443\]$'
rdb delete security_groups sg-awscli >/dev/null

# The generic commands cover every kind: a prefix list, a NAT gateway (an
# ordered collection), a host.
echo '{"id": "pl-new", "name": "corp", "cidrs": ["172.16.0.0/12"]}' \
    | rdb put prefix_lists - >/dev/null
rdb get prefix_lists pl-new | jq -c . \
    | expect "put + get of a prefix list" '"cidrs":\["172.16.0.0/12"\]'
echo '{"id": "host-e", "underlay_ip": "192.168.100.5"}' > "$DB/host.json"
rdb put hosts "$DB/host.json" >/dev/null
rdb get hosts | jq -c '[.[].id]' \
    | expect "put of a host; get of the collection lists it" '"host-e"'
rdb delete hosts host-e >/dev/null
rdb delete prefix_lists pl-new >/dev/null
dumpq '[(.hosts[] | select(.id == "host-e")), (.prefix_lists[]? | select(.id == "pl-new"))] | length' \
    | expect "delete of a host and a prefix list" '^0$'
echo '{"id": "nat-new", "subnet": "subnet-web",
       "elastic_ip": "203.0.113.77", "edge": "edge-1"}' \
    | rdb put nat_gateways - >/dev/null
dumpq '.nat_gateways[] | select(.id == "nat-new") | .elastic_ip' \
    | expect "put of a NAT gateway" '^"203.0.113.77"$'
# Gateways keep their index in 'position' (their reserved VNI depends on
# it): deleting the first moves the next one up.
echo '{"id": "nat-next", "subnet": "subnet-web", "elastic_ip": "203.0.113.78",
       "edge": "edge-1"}' | rdb put nat_gateways - >/dev/null
nat_pos() {
    ovsdb-client transact "$REGION_DB" '["OVS_VPC_Region", {"op": "select",
        "table": "NAT_Gateway", "where": [], "columns": ["id", "position"]}]' \
        | jq -c '[.[0].rows[] | [.id, .position]] | sort'
}
nat_pos | expect "  two NAT gateways at positions 0 and 1" \
    '^\[\["nat-new",0\],\["nat-next",1\]\]$'
rdb delete nat_gateways nat-new >/dev/null
nat_pos | expect "  deleting the first moves the second to position 0" \
    '^\[\["nat-next",0\]\]$'
rdb delete nat_gateways nat-next >/dev/null
"$VPCCTL" validate <(rdb dump) >/dev/null \
    && pass "after every command the dump validates" \
    || fail "the dump no longer validates"
diff <(json_norm "$DB/base.json") <(rdb dump | json_norm /dev/stdin) \
    >/dev/null \
    && pass "and, every change undone, equals the base region again" \
    || fail "the dump differs from the base region after undoing"

echo "refused writes change nothing:"
# refused WHAT RULE-REGEX CMD...: exits 1, prints the rule, same dump + cfg.
refused() {
    local what=$1 rule=$2 out rc d0 c0; shift 2
    d0=$(rdb dump); c0=$(cfg)
    out=$("$@" 2>&1); rc=$?
    if [ $rc -eq 1 ] && grep -Eq -- "$rule" <<<"$out"; then
        pass "$what: exit 1, '$(grep -Eo -- "$rule" <<<"$out" | head -1)'"
    else
        fail "$what (exit $rc, no /$rule/ in:)"; sed 's/^/       | /' <<<"$out"
    fi
    [ "$(rdb dump)" = "$d0" ] && [ "$(cfg)" = "$c0" ] \
        && pass "  $what: dump and cfg $c0 unchanged" \
        || fail "  $what: the database changed"
}
refused "an ENI IP outside its subnet" \
    'enis\[eni-x\]\.private_ip: "10\.10\.9\.9": not inside subnet-web' \
    rdb create-network-interface --network-interface-id eni-x \
        --subnet-id subnet-web --private-ip-address 10.10.9.9 \
        --mac-address 02:00:00:10:09:09 --host host-a
refused "an IP taken in the VPC" \
    'private_ip: "10\.10\.1\.10": duplicate IP in vpc-web: already assigned to eni-web-a' \
    rdb create-network-interface --network-interface-id eni-x \
        --subnet-id subnet-web --private-ip-address 10.10.1.10 \
        --mac-address 02:00:00:10:09:09 --host host-a
refused "a route to a missing target" \
    'route_tables\[rtb-web\]\.routes\[[0-9]+\]\.target: "eni-gone": .*' \
    rdb create-route --route-table-id rtb-web \
        --destination-cidr-block 10.98.0.0/16 --target eni-gone
refused "deleting a referenced security group" \
    'enis\[eni-web-a\]\.security_groups\[0\]: "sg-web": no security group has this id' \
    rdb delete-security-group --group-id sg-web
refused "an ENI on an unknown host" 'host: "host-z": ' \
    rdb modify-network-interface-attribute --network-interface-id eni-web-a \
        --host host-z
refused "a put of an ENI with a bad MAC" 'enis\[eni-web-a\]\.mac: "zz": not a MAC' \
    rdb put enis <(rdb get enis eni-web-a | jq '.mac = "zz"')

echo "concurrent writers:"
# Each writer validates, then waits 500 ms before committing: all ten have
# read the same cfg, so their commits really race.
c0=$(cfg)
for i in $(seq 10); do
    VPC_RDB_TEST_COMMIT_DELAY_MS=500 rdb create-network-interface --network-interface-id "eni-race$i" \
        --subnet-id subnet-app --private-ip-address 10.10.2.99 \
        --mac-address "02:00:00:10:99:$(printf %02x "$i")" --host host-b \
        > "$DB/race$i.out" 2>&1 &
done
n_ok=0
for i in $(seq 10); do
    wait %"$i" 2>/dev/null
done
for i in $(seq 10); do
    grep -q '^cfg ' "$DB/race$i.out" && n_ok=$((n_ok + 1))
done
[ "$n_ok" = 1 ] && pass "10 writers racing for 10.10.2.99: exactly one commits" \
    || { fail "10 writers racing for 10.10.2.99: $n_ok commit"; cat "$DB"/race*.out | head; }
dumpq '[.enis[] | select(.private_ip == "10.10.2.99")] | length' \
    | expect "  the region holds one ENI with that IP" '^1$'
[ "$(cfg)" = $((c0 + 1)) ] && pass "  cfg $c0 -> $((c0 + 1))" \
    || fail "  cfg $(cfg) after $c0"
grep -h 'duplicate IP' "$DB"/race*.out | wc -l \
    | expect "  the other nine were refused for the duplicate IP" '^9$'
# Racing read-modify-writes on one group: every rule survives.
for p in 1001 1002 1003 1004 1005; do
    VPC_RDB_TEST_COMMIT_DELAY_MS=300 rdb authorize-security-group-ingress \
        --group-id sg-app --protocol tcp --port "$p" --cidr 10.0.0.0/8 \
        > "$DB/rule$p.out" 2>&1 &
done
wait
dumpq '[.security_groups[] | select(.id == "sg-app") | .ingress[] | select(.from_port > 1000 and .from_port < 1006)] | length' \
    | expect "5 writers adding rules to one group: all 5 rules are there" '^5$'
dumpq '.' >/dev/null

echo "--wait:"
for h in host-a host-b host-c host-d edge-1; do host_status "$h" "$(cfg)"; done
c0=$(cfg)
rdb --wait=120 create-network-interface --network-interface-id eni-wait \
    --subnet-id subnet-web --private-ip-address 10.10.1.60 \
    --mac-address 02:00:00:10:01:60 --host host-a > "$DB/wait.out" 2>&1 &
wpid=$!
while [ "$(cfg)" = "$c0" ] && kill -0 $wpid 2>/dev/null; do sleep 0.1; done
c1=$(cfg)
sleep 0.5
kill -0 $wpid 2>/dev/null \
    && pass "--wait has not returned while the hosts are at cfg $c0" \
    || fail "--wait returned before any host applied cfg $c1: $(cat "$DB/wait.out")"
# The ENI's VPC is on host-a, host-b and edge-1 (its internet gateway), not
# on host-c (vpc-two) or host-d: only the first three need to catch up.
host_status host-a "$c1"; host_status host-b "$c1"
sleep 0.5
kill -0 $wpid 2>/dev/null \
    && pass "  nor while edge-1 is behind" \
    || fail "  --wait returned while edge-1 was behind: $(cat "$DB/wait.out")"
host_status edge-1 "$c1"
wait $wpid; rc=$?
[ $rc = 0 ] && pass "  returns 0 once host-a, host-b and edge-1 reach cfg $c1 (host-c, host-d not in scope)" \
    || fail "  --wait exited $rc: $(cat "$DB/wait.out")"
expect "  and says so" "^cfg $c1, applied by 3 hosts$" cat "$DB/wait.out"
out=$(rdb --wait=0.5 delete-network-interface --network-interface-id eni-wait 2>&1); rc=$?
[ $rc = 1 ] && pass "--wait=0.5 with every host behind exits 1" \
    || fail "--wait=0.5 exited $rc"
grep -q 'host-a (applied' <<<"$out" && grep -q 'host-b (applied' <<<"$out" \
    && grep -q 'edge-1 (applied' <<<"$out" && ! grep -q host-c <<<"$out" \
    && pass "  naming the hosts behind: $(grep -o '[0-9]* hosts* had.*' <<<"$out")" \
    || fail "  the message does not name the hosts behind: $out"
dumpq '[.enis[] | select(.id == "eni-wait")] | length' \
    | expect "  the change is committed all the same" '^0$'

# A whole-document load affects every host and edge.
c5=$(cfg)
for h in host-a host-b host-c host-d edge-1; do host_status "$h" $((c5 + 1)); done
rdb --wait=60 load "$DB/base.json" \
    | expect "load --wait returns once every host has the new cfg" \
        "^cfg $((c5 + 1)), applied by 5 hosts$"
host_status host-d "$c5"
out=$(rdb --wait=0.3 load "$DB/base.json" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "host-d (applied $c5)" <<<"$out" \
    && pass "load --wait times out naming a host out of the document's VPCs (host-d)" \
    || fail "load --wait=0.3: exit $rc: $out"

pid_stop "$DB/region.pid"
finish

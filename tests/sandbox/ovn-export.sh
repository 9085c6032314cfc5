#!/usr/bin/env bash
# Sandbox: 'vpcctl export-ovn' loaded into a real OVN Northbound database.
# For each example, a fresh NB database (from OVN's own schema) is served by
# the ovsdb-server built in build/ovs, the exported transaction is applied
# with ovsdb-client, and the result is read back with ovn-nbctl.
# Skips (77) without ovn-nbctl or the NB schema (package ovn-central).
. "$(dirname "$0")/../lib.sh"

NB_SCHEMA=${NB_SCHEMA:-/usr/share/ovn/ovn-nb.ovsschema}
for tool in ovsdb-server ovsdb-client ovsdb-tool ovn-nbctl jq; do
    command -v "$tool" >/dev/null || skip "no $tool"
done
[ -f "$NB_SCHEMA" ] || skip "no $NB_SCHEMA"

NB=$TEST_DIR/nb
mkdir -p "$NB"

nb_start() { ovsdb_start "$NB" nb "$NB_SCHEMA"; }
nb_stop() { pid_stop "$NB/nb.pid"; }
trap 'nb_stop; ovs_stop_all; exit 143' INT TERM
nbctl() { ovn-nbctl --timeout=10 --db="unix:$NB/nb.sock" "$@"; }
count() { nbctl --bare --columns=_uuid list "$1" | grep -c . || true; }
# count_vpc TABLE: rows of TABLE that are not the edges' stand-ins (gateway
# routers "gw-*", their ports "lrp-gw-*", "lrp-*-gw", "lrp-*-ext", the
# external switches "ext-*" and their ports "ext-*", "ln-ext-*").
count_vpc() {
    nbctl --bare --columns=name list "$1" \
        | grep -Ev '^(gw-|lrp-gw-|ext-|ln-ext-)|^lrp-.*-(gw|ext)$' \
        | grep -c . || true
}

for ex in "$TOP"/examples/*.json; do
    name=$(basename "$ex" .json)
    echo "$name:"
    nb_start
    txn=$("$VPCCTL" export-ovn "$ex")
    "$VPCCTL" export-ovn "$ex" | cmp -s - <(echo "$txn") \
        && pass "$name: output is deterministic" \
        || fail "$name: output differs between runs"
    out=$(ovsdb-client transact "unix:$NB/nb.sock" "$txn" 2>&1)
    echo "$out" | expect "$name: transaction applied" '^\[\{"uuid"'
    echo "$out" | expect_not "$name: no error in the transaction" '"error"'

    n_vpcs=$(jq '.vpcs | length' "$ex")
    n_subnets=$(jq '.subnets | length' "$ex")
    n_enis=$(jq '.enis | length' "$ex")
    n_pcx=$(jq '.peering_connections // [] | length' "$ex")
    n_sgs=$(jq '.security_groups // [] | length' "$ex")

    [ "$(count_vpc Logical_Router)" = "$n_vpcs" ] \
        && pass "$name: $n_vpcs logical routers" \
        || fail "$name: $(count_vpc Logical_Router) logical routers, want $n_vpcs"
    [ "$(count_vpc Logical_Switch)" = "$n_subnets" ] \
        && pass "$name: $n_subnets logical switches" \
        || fail "$name: $(count_vpc Logical_Switch) logical switches, want $n_subnets"
    want=$((n_enis + n_subnets))
    [ "$(count_vpc Logical_Switch_Port)" = "$want" ] \
        && pass "$name: $want switch ports (ENIs + router ports)" \
        || fail "$name: $(count_vpc Logical_Switch_Port) switch ports, want $want"
    want=$((n_subnets + 2 * n_pcx))
    [ "$(count_vpc Logical_Router_Port)" = "$want" ] \
        && pass "$name: $want router ports (subnets + 2 per peering)" \
        || fail "$name: $(count_vpc Logical_Router_Port) router ports, want $want"
    [ "$(count Port_Group)" = "$n_sgs" ] \
        && pass "$name: $n_sgs port groups" \
        || fail "$name: $(count Port_Group) port groups, want $n_sgs"

    # The first ENI: addresses and port security "MAC IP".
    eni=$(jq -r '.enis[0].id' "$ex")
    addr="$(jq -r '.enis[0].mac + " " + .enis[0].private_ip' "$ex")"
    nbctl lsp-get-addresses "$eni" \
        | expect "$name: $eni addresses" "^$addr\$"
    if [ "$(jq -r '.enis[0] | if has("source_dest_check")
                   then .source_dest_check else true end' "$ex")" = true ]; then
        nbctl lsp-get-port-security "$eni" \
            | expect "$name: $eni port security" "^$addr\$"
    else
        expect_not "$name: $eni (source_dest_check off): no port security" . \
            nbctl lsp-get-port-security "$eni"
    fi
    nbctl show | expect "$name: every switch is attached to its router" \
        'router-port: lrp-'
    [ "$(count DHCP_Options)" = "$n_subnets" ] \
        && pass "$name: $n_subnets DHCP_Options (one per subnet)" \
        || fail "$name: $(count DHCP_Options) DHCP_Options, want $n_subnets"
    cidr=$(jq -r --arg s "$(jq -r '.enis[0].subnet' "$ex")" \
           '.subnets[] | select(.id == $s) | .cidr' "$ex")
    nbctl lsp-get-dhcpv4-options "$eni" \
        | expect "$name: $eni has its subnet's DHCP options" " \\($cidr\\)\$"
    nb_stop
done

# A VPC's DHCP options set (docs/intents.md), as DHCP_Options' options.
echo "web-tier with a DHCP options set:"
jq '.dhcp_options = [{"id": "dopt-corp", "domain_name": "corp.example",
      "domain_name_servers": ["10.10.1.53", "AmazonProvidedDNS"],
      "ntp_servers": ["10.10.1.123"], "lease_time": 600}]
    | (.vpcs[0].dhcp_options_id = "dopt-corp")' \
    "$TOP/examples/web-tier.json" > "$TEST_DIR/dopt.json"
nb_start
ovsdb-client transact "unix:$NB/nb.sock" "$("$VPCCTL" export-ovn "$TEST_DIR/dopt.json")" \
    >/dev/null 2>&1
u=$(nbctl --bare --columns=_uuid find DHCP_Options cidr=10.10.1.0/24)
opts=$(nbctl dhcp-options-get-options "$u")
expect "subnet-web's DHCP options: the set's domain" '^domain_name="corp.example"$' <<<"$opts"
expect "...its DNS servers, AmazonProvidedDNS as the VPC resolver" '^dns_server=\{10.10.1.53, 10.10.0.2\}$' <<<"$opts"
expect "...its NTP server and lease" '^lease_time=600$' <<<"$opts"
expect "...the router as server and gateway, the MTU" '^server_id=10.10.1.1$' <<<"$opts"
expect "...the MTU" '^mtu=1450$' <<<"$opts"
nb_stop

# web-tier in detail.
EX=$TOP/examples/web-tier.json
echo "web-tier details:"
nb_start
ovsdb-client transact "unix:$NB/nb.sock" "$("$VPCCTL" export-ovn "$EX")" \
    >/dev/null 2>&1
acls=$(nbctl acl-list pg_sg_web)
expect "sg-web: tcp 443 ingress is allow-related" \
    'to-lport +1002 \(outport == @pg_sg_web && ip4 && tcp && tcp.dst == 443\) allow-related' <<<"$acls"
expect "sg-web: ping from the VPC" \
    'ip4.src == 10.10.0.0/16 && icmp4 && icmp4.type == 8\) allow-related' <<<"$acls"
expect "sg-web: all egress" \
    'from-lport +1002 \(inport == @pg_sg_web && ip4\) allow-related' <<<"$acls"
expect "sg-web: default drop in" 'to-lport +1001 \(outport == @pg_sg_web && ip\) drop' <<<"$acls"
expect "sg-web: default drop out" 'from-lport +1001 \(inport == @pg_sg_web && ip\) drop' <<<"$acls"
nbctl acl-list pg_sg_app | expect "sg-app: 8080 from sg-web by address set" \
    'ip4.src == \$as_sg_web && tcp && tcp.dst == 8080\) allow-related'
nbctl --bare --columns=addresses find Address_Set name=as_sg_web \
    | expect "as_sg_web holds sg-web's members" '10.10.1.10.*10.10.1.11|10.10.1.11.*10.10.1.10'
nbctl --bare --columns=ports list Port_Group pg_sg_web | wc -w \
    | expect "pg_sg_web has sg-web's two ENIs" '^2$'
nbctl lrp-list vpc-web | expect "vpc-web has subnet-web's router port" 'lrp-subnet-web'
nbctl --bare --columns=networks,mac list Logical_Router_Port lrp-subnet-web \
    | tr '\n' ' ' | expect "router port: .1/24, MAC 02:76:70 + VNI 1010" \
    '02:76:70:00:03:f2.*10.10.1.1/24|10.10.1.1/24.*02:76:70:00:03:f2'
nbctl lr-nat-list gw-vpc-web | expect "elastic IP as dnat_and_snat on the gateway router" \
    'dnat_and_snat +203.0.113.10 +10.10.1.10'
nbctl --bare --columns=options list Logical_Router gw-vpc-web \
    | expect "gw-vpc-web is pinned to the edge's chassis" '^chassis=edge-1$'
nbctl lr-route-list vpc-web | expect "rtb-web's 0.0.0.0/0 -> igw-web goes to the gateway router" \
    '0.0.0.0/0 +100.64.0.2 .*'
nbctl lr-route-list gw-vpc-web | expect "gw-vpc-web routes vpc-web's block back" \
    '10.10.0.0/16 +100.64.0.1'
nbctl lr-route-list gw-vpc-web | expect "... and the rest out to the upstream router" \
    '0.0.0.0/0 +198.18.0.1'
nbctl lsp-get-addresses ln-ext-edge-1 | expect "edge-1's localnet port knows the upstream router" \
    '198.18.0.1'
nbctl lsp-list ext-edge-1 | expect "gw-vpc-web is on edge-1's external switch" '\(ext-vpc-web\)'
acls=$(nbctl acl-list subnet-app)
expect "acl-app ingress rule 90 (deny ssh): from-lport on the router port, 32767 - 90" \
    'from-lport +32677 \(inport == "rtr-subnet-app" && ip4 && ip4.src != 10.10.2.0/24 && ip4 && tcp && tcp.dst == 22\) drop' <<<"$acls"
expect "acl-app ingress rule 100 (allow all)" \
    'from-lport +32667 \(inport == "rtr-subnet-app" && ip4 && ip4.src != 10.10.2.0/24 && ip4\) allow$' <<<"$acls"
expect "acl-app egress: to-lport on the router port" \
    'to-lport +32677 \(outport == "rtr-subnet-app" && ip4 && ip4.dst != 10.10.2.0/24 && ip4 && tcp && tcp.dst == 22\) drop' <<<"$acls"
expect "acl-app implicit deny at priority 0" \
    'to-lport +0 \(outport == "rtr-subnet-app" && ip4 && ip4.dst != 10.10.2.0/24\) drop' <<<"$acls"
expect_not "subnet-web (no network ACL) has no ACL" . nbctl acl-list subnet-web
nb_stop

# peering: routes to the peer router over the peered ports.
EX=$TOP/examples/peering.json
echo "peering details:"
nb_start
ovsdb-client transact "unix:$NB/nb.sock" "$("$VPCCTL" export-ovn "$EX")" \
    >/dev/null 2>&1
nbctl lr-route-list vpc-a | expect "vpc-a routes 10.2.0.0/16 to vpc-b" \
    '10.2.0.0/16 +169.254.0.2'
nbctl --bare --columns=peer list Logical_Router_Port lrp-pcx-ab-vpc-a \
    | expect "peering ports are peered" '^lrp-pcx-ab-vpc-b$'
nb_stop

# --db: vpcctl loads the transaction itself.  A region of 1,000 ENIs is
# ~0.7 MB of JSON, more than one argument of ovsdb-client may hold.
echo "export-ovn --db:"
python3 "$TOP/bench/gen-region.py" --vpcs 100 --enis 1000 --hosts 10 \
    --seed 1 --out "$TEST_DIR/big.json" >/dev/null
nb_start
"$VPCCTL" export-ovn "$TEST_DIR/big.json" --db="unix:$NB/nb.sock" \
    | expect "a 1,000-ENI region loads in one transaction" '^loaded into .*: [0-9]+ rows, one transaction$'
[ "$(count Logical_Switch_Port)" -gt 1000 ] \
    && pass "its ENIs are in NB ($(count Logical_Switch_Port) switch ports)" \
    || fail "$(count Logical_Switch_Port) switch ports in NB"
before=$(count Logical_Switch_Port)
out=$("$VPCCTL" export-ovn "$TEST_DIR/big.json" --db="unix:$NB/nb.sock" 2>&1)
rc=$?
[ "$rc" = 1 ] && pass "loading it twice fails (exit 1)" || fail "loading twice: exit $rc"
expect "... naming the failed operation" 'transaction failed, nothing changed: operation [0-9]+: .*constraint violation' <<<"$out"
[ "$(count Logical_Switch_Port)" = "$before" ] && pass "... and changes nothing" \
    || fail "a failed load changed NB"
nb_stop

# Bad input: an error, nothing on stdout.
out=$("$VPCCTL" export-ovn "$TOP/examples/invalid/references.json" 2>/dev/null)
rc=$?
[ "$rc" = 1 ] && [ -z "$out" ] && pass "invalid region: exit 1, no output" \
    || fail "invalid region: exit $rc, output '${out:0:60}'"

finish

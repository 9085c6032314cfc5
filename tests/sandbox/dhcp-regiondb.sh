#!/usr/bin/env bash
# Sandbox: a VPC's DHCP options set, through the region database.  vpcd
# --region-db on host-a of the web tier answers a DISCOVER with the
# defaults; a DHCP options set created and associated with the VPC (vpcctl
# create-dhcp-options, associate-dhcp-options) changes the next OFFER's
# domain and DNS servers; a change of the options set alone (no flow
# changes) reaches the answers too (DHCP, and the resolver's names); an
# unknown dhcp_options_id is refused by the writer, and so is deleting a
# set a VPC names; associating "default" goes back to the defaults, and
# the set can go.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vpcd-lib.sh"
. "$TOP/tests/sandbox/helpers.sh"
command -v tcpdump >/dev/null || skip "no tcpdump"
EX=$TOP/examples/web-tier.json
PKT=$TOP/tests/dhcp-packet.py
MAC=02:00:00:10:01:0a

mkdir -p "$TEST_DIR/rdb"
regiondb_start "$TEST_DIR/rdb"
trap 'pid_stop "$TEST_DIR/rdb/region.pid"; ovs_stop_all; exit 143' INT TERM
rdbw() { "$VPCCTL" --region-db="$REGION_DB" "$@"; }
rdbw load "$EX" | expect "the web tier loads" 'cfg 1,'
ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web 1 eni-web-a
vpcd_start host-a "" --region-db="$REGION_DB" --verify-incremental
vpcd_expect_wait "vpcd follows the database (cfg 1, in sync)" host-a '.in_sync and .region_db.applied_cfg == 1'
vpcd_expect_wait "ovs-vswitchd is connected to vpcd" host-a '.services.connected'

# offer XID: sends a DISCOVER with XID, prints the OFFER tcpdump decodes.
offer() {
    appctl_on host-a netdev-dummy/receive vm-web "$(python3 "$PKT" 1 $MAC "" "$1")" >/dev/null
    wait_pcap host-a vm-web.pcap "xid $1" | awk -v x="xid $1" '
        /^[0-9]/ { on = 0 } index($0, x) { on = 1; print prev } on { print } { prev = $0 }'
}
# applied: vpcd applied the database's current cfg.
applied() {
    local c
    c=$(rdbw status 2>/dev/null | awk '/^region cfg/ { print $3 }')
    vpcd_wait host-a ".in_sync and .region_db.applied_cfg >= ${c:-999999}" 10
}

offer 0x1001 > "$TEST_DIR/o1.txt"
expect "the default: the VPC resolver" 'Domain-Name-Server.*: 10\.10\.0\.2$' < "$TEST_DIR/o1.txt"
expect "...and the default domain" 'Domain-Name .*"az-1\.compute\.internal"' < "$TEST_DIR/o1.txt"

echo "An options set associated with the VPC"
rdbw create-dhcp-options --dhcp-options-id dopt-corp --domain-name corp.example \
    --domain-name-servers 10.10.1.53,AmazonProvidedDNS --ntp-servers 10.10.1.123 \
    --lease-time 600 >/dev/null \
    && pass "vpcctl create-dhcp-options dopt-corp" || fail "vpcctl create-dhcp-options"
rdbw associate-dhcp-options --dhcp-options-id dopt-corp --vpc-id vpc-web >/dev/null \
    && pass "vpcctl associate-dhcp-options: vpc-web uses dopt-corp" || fail "vpcctl associate-dhcp-options"
rdbw get dhcp_options dopt-corp | jq -cS . | expect "the set is what the verb said" \
    '^\{"domain_name":"corp.example","domain_name_servers":\["10.10.1.53","AmazonProvidedDNS"\],"id":"dopt-corp","lease_time":600,"ntp_servers":\["10.10.1.123"\]\}$'

applied && pass "host-a applied it" || fail "host-a did not apply it: $(vpcd_status host-a .region_db)"
offer 0x1002 > "$TEST_DIR/o2.txt"
expect "the OFFER has the set's DNS servers, AmazonProvidedDNS as the resolver" 'Domain-Name-Server.*: 10\.10\.1\.53,10\.10\.0\.2$' < "$TEST_DIR/o2.txt"
expect "...its domain" 'Domain-Name .*"corp\.example"' < "$TEST_DIR/o2.txt"
expect "...its NTP server" 'NTP.*10\.10\.1\.123' < "$TEST_DIR/o2.txt"
expect "...its lease time" 'Lease-Time.*600$' < "$TEST_DIR/o2.txt"

# dns NAME ID: the resolver's answer (tcpdump's text) to an A query.
dns() {
    appctl_on host-a netdev-dummy/receive vm-web "$(python3 "$PKT" dns $MAC 10.10.1.10 10.10.0.2 "$1" "$2")" >/dev/null
    wait_pcap host-a vm-web.pcap "^ *10\.10\.0\.2\.53 > .* $(($2))[^0-9]" | grep -A1 "10\.10\.0\.2\.53 > .* $(($2))[^0-9]"
}
dns ip-10-10-1-20.corp.example 0x2001 | expect "the resolver answers the private hostname under the set's domain" 'A 10\.10\.1\.20'

echo "The options set alone changes"
rdbw get dhcp_options dopt-corp | jq '.domain_name = "other.example"' \
    | rdbw put dhcp_options - >/dev/null \
    && pass "dopt-corp's domain changes" || fail "vpcctl put dhcp_options (change)"
applied && pass "host-a applied it" || fail "host-a did not apply it"
offer 0x1003 | expect "the next OFFER has the new domain" 'Domain-Name .*"other\.example"'
dns ip-10-10-1-20.other.example 0x2002 | expect "...and the resolver answers under it" 'A 10\.10\.1\.20'
dns ip-10-10-1-20.corp.example 0x2003 | expect "...no longer under the old one (outside the VPC now: REFUSED, no upstream)" 'Refused'
vpcd_status host-a .partial_mismatches | expect "no partial compile was wrong (--verify-incremental)" '^0$'

echo "A reference to no options set"
rdbw get vpcs vpc-web | jq '.dhcp_options_id = "dopt-none"' \
    | rdbw put vpcs - > "$TEST_DIR/bad.out" 2>&1 \
    && fail "an unknown dhcp_options_id was accepted" \
    || expect "an unknown dhcp_options_id is refused, naming it" 'dhcp_options_id.*"dopt-none".*no DHCP options set has this id' < "$TEST_DIR/bad.out"
rdbw delete dhcp_options dopt-corp > "$TEST_DIR/del.out" 2>&1 \
    && fail "dopt-corp, still associated with vpc-web, was deleted" \
    || expect "an options set a VPC names cannot be deleted" 'dhcp_options_id.*"dopt-corp".*no DHCP options set has this id' < "$TEST_DIR/del.out"

echo "Back to the default set"
rdbw associate-dhcp-options --dhcp-options-id default --vpc-id vpc-web >/dev/null \
    && pass "vpcctl associate-dhcp-options --dhcp-options-id default" || fail "associate default"
rdbw get vpcs vpc-web | expect_not "vpc-web names no set" 'dhcp_options_id'
applied && pass "host-a applied it" || fail "host-a did not apply it"
offer 0x1004 | expect "the OFFER has the default domain again" 'Domain-Name .*"az-1\.compute\.internal"'
rdbw delete-dhcp-options --dhcp-options-id dopt-corp >/dev/null \
    && pass "vpcctl delete-dhcp-options, now that no VPC uses it" || fail "delete-dhcp-options"
pid_stop "$TEST_DIR/rdb/region.pid"
finish

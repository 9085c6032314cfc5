#!/usr/bin/env bash
# Sandbox: who may write the region database (docs/regiondb.md, "Who may
# write").  A real ovsdb-server serves the database over SSL with
# certificates made by ovs-pki, and its role-based access control (the
# schema's RBAC_Role, RBAC_Permission and Connection tables) gives the
# hosts' remote the role vpc-host: a host's certificate (CN = host id) can
# insert and update its own Host_Status row, and is refused another host's
# row and every intent table; the administrator's unix socket keeps full
# access.  A real vpcd (and ovs-vswitchd) for host-a then follows the
# database over SSL with host-a's certificate, applies and acknowledges;
# a vpcd holding host-a's certificate but claiming host-b cannot.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vpcd-lib.sh"

for tool in ovsdb-server ovsdb-client ovsdb-tool ovs-pki openssl jq; do
    command -v "$tool" >/dev/null || skip "no $tool"
done
DB=$TEST_DIR/regiondb
PKI=$TEST_DIR/pki
trap 'ovs_stop_all; pid_stop "$DB/region.pid"; exit 143' INT TERM
mkdir -p "$DB" "$PKI"

# The certificates: one CA (ovs-pki's switchca), the server's and one per
# host, each with CN = the host's id (-u: no id suffix in the CN).
pki() { ovs-pki --dir="$PKI/ca" --log="$PKI/pki.log" "$@" >/dev/null 2>&1; }
(cd "$PKI" && pki init && pki -u req+sign region-db switch \
    && pki -u req+sign host-a switch && pki -u req+sign host-b switch) \
    || fail "ovs-pki could not make the certificates"
CA=$PKI/ca/switchca/cacert.pem
openssl x509 -in "$PKI/host-a-cert.pem" -noout -subject \
    | expect "host-a's certificate has CN = host-a" 'CN ?= ?host-a$'

# The server: the administrator's unix socket, plus the remotes named by
# Region.connections, with the server's key and the CA.
ovsdb-tool create "$DB/region.db" "$REGION_SCHEMA"
ovsdb-server "$DB/region.db" --remote="punix:$DB/region.sock" \
    --remote=db:OVS_VPC_Region,Region,connections \
    --private-key="$PKI/region-db-privkey.pem" \
    --certificate="$PKI/region-db-cert.pem" --ca-cert="$CA" \
    --pidfile="$DB/region.pid" --unixctl="$DB/region.ctl" \
    --log-file="$DB/region.log" -vconsole:off --detach --no-chdir \
    2>>"$DB/stderr.log" || fail "ovsdb-server did not start"
ADMIN=unix:$DB/region.sock
"$VPCCTL" --region-db="$ADMIN" load "$TOP/examples/web-tier.json" >/dev/null \
    || fail "the region does not load"

# The role: vpc-host may insert, delete and update (applied_cfg, error)
# the Host_Status rows whose 'host' is its certificate's CN, nothing else.
# Its remote: SSL on a port the server picks.  vpcctl set-connection
# writes both (the Connection row, and the role if missing).
"$VPCCTL" --region-db="$ADMIN" set-connection --role=vpc-host \
    pssl:0:127.0.0.1 | expect "vpcctl set-connection --role=vpc-host" \
    '^pssl:0:127.0.0.1: role vpc-host$'
ovsdb-client transact "$ADMIN" '["OVS_VPC_Region",
  {"op": "select", "table": "RBAC_Permission", "where": [],
   "columns": ["table", "authorization", "insert_delete", "update"]},
  {"op": "select", "table": "RBAC_Role", "where": [], "columns": ["name"]}]' \
    | jq -c '[.[0].rows[0] | .table, .authorization, .insert_delete,
              .update], .[1].rows[0].name' | tr '\n' ' ' \
    | expect "  the role: Host_Status, authorized by 'host', insert/delete, update applied_cfg and error" \
        '^\["Host_Status","host",true,\["set",\["applied_cfg","error"\]\]\] "vpc-host" $'
c0=$(ovsdb-client transact "$ADMIN" '["OVS_VPC_Region", {"op": "select",
    "table": "Region", "where": [], "columns": ["cfg"]}]' | jq '.[0].rows[0].cfg')
"$VPCCTL" --region-db="$ADMIN" set-connection --role=vpc-host \
    pssl:0:127.0.0.1 >/dev/null
ovsdb-client transact "$ADMIN" '["OVS_VPC_Region",
  {"op": "select", "table": "RBAC_Permission", "where": [], "columns": []},
  {"op": "select", "table": "RBAC_Role", "where": [], "columns": []},
  {"op": "select", "table": "Connection", "where": [], "columns": []},
  {"op": "select", "table": "Region", "where": [], "columns": ["cfg"]}]' \
    | jq -c '[(.[0:3][] | .rows | length), .[3].rows[0].cfg]' \
    | expect "  again: still one permission, one role, one connection, cfg $c0" \
        "^\\[1,1,1,$c0\\]$"
port=
for _ in $(seq 100); do
    port=$(ovsdb-client transact "$ADMIN" '["OVS_VPC_Region", {"op": "select",
        "table": "Connection", "where": [], "columns": ["status"]}]' \
        | jq -r '.[0].rows[0].status[1][] | select(.[0] == "bound_port") | .[1]' \
          2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] && pass "ovsdb-server listens on pssl:$port (role vpc-host)" \
    || fail "the SSL remote of Region.connections is not bound"
SSL=ssl:127.0.0.1:$port

# as HOST TRANSACTION: ovsdb-client transact over SSL with HOST's key.
as() {
    local h=$1; shift
    ovsdb-client --private-key="$PKI/$h-privkey.pem" \
        --certificate="$PKI/$h-cert.pem" --ca-cert="$CA" \
        transact "$SSL" "$1" 2>&1
}
status_row() {
    ovsdb-client transact "$ADMIN" "[\"OVS_VPC_Region\", {\"op\": \"select\",
        \"table\": \"Host_Status\", \"where\": [[\"host\", \"==\", \"$1\"]],
        \"columns\": [\"applied_cfg\"]}]" | jq -c '.[0].rows'
}
# allowed WHAT OUTPUT / refused WHAT OUTPUT: the transaction's result.
allowed() {
    if jq -e 'all(.[]; has("error") | not)' <<<"$2" >/dev/null 2>&1; then
        pass "$1"
    else fail "$1 (refused: $2)"; fi
}
refused() {
    if grep -q 'RBAC rules for client' <<<"$2"; then
        pass "$1: $(tr -d '\\' <<<"$2" | grep -o 'RBAC rules for client "[^"]*" role "[^"]*" prohibit[a-z ]*"[^"]*"' | head -1)"
    else fail "$1 (not refused by RBAC: $2)"; fi
}

echo "a host's certificate:"
out=$(as host-a '["OVS_VPC_Region", {"op": "insert", "table": "Host_Status",
    "row": {"host": "host-a", "applied_cfg": 1}}]')
allowed "host-a inserts its own Host_Status row" "$out"
out=$(as host-a '["OVS_VPC_Region", {"op": "update", "table": "Host_Status",
    "where": [["host", "==", "host-a"]],
    "row": {"applied_cfg": 2, "error": ["set", []]}}]')
allowed "host-a updates its own row" "$out"
status_row host-a | expect "  the row holds applied_cfg 2" '"applied_cfg":2'
out=$(as host-b '["OVS_VPC_Region", {"op": "insert", "table": "Host_Status",
    "row": {"host": "host-b", "applied_cfg": 1}}]')
allowed "host-b inserts its own row" "$out"

out=$(as host-a '["OVS_VPC_Region", {"op": "update", "table": "Host_Status",
    "where": [["host", "==", "host-b"]], "row": {"applied_cfg": 99}}]')
refused "host-a is refused host-b's row" "$out"
status_row host-b | expect "  host-b's row is unchanged" '"applied_cfg":1'
out=$(as host-a '["OVS_VPC_Region", {"op": "insert", "table": "Host_Status",
    "row": {"host": "host-c", "applied_cfg": 5}}]')
refused "host-a is refused a row for another host" "$out"
out=$(as host-a '["OVS_VPC_Region", {"op": "update", "table": "Host_Status",
    "where": [["host", "==", "host-a"]], "row": {"host": "host-b"}}]')
refused "host-a is refused renaming its row" "$out"
out=$(as host-a '["OVS_VPC_Region", {"op": "update", "table": "ENI",
    "where": [["id", "==", "eni-web-a"]], "row": {"description": "moved"}}]')
refused "host-a is refused an intent table (ENI)" "$out"
out=$(as host-a '["OVS_VPC_Region", {"op": "mutate", "table": "Region",
    "where": [], "mutations": [["cfg", "+=", 1]]}]')
refused "host-a is refused Region.cfg" "$out"
out=$(as host-a '["OVS_VPC_Region", {"op": "delete", "table": "RBAC_Role",
    "where": []}]')
refused "host-a is refused the RBAC tables" "$out"
out=$(as host-a '["OVS_VPC_Region", {"op": "select", "table": "ENI",
    "where": [["id", "==", "eni-web-a"]], "columns": ["private_ip"]}]')
grep -q '"10.10.1.10"' <<<"$out" && pass "host-a may read the intents" \
    || fail "host-a cannot read the intents: $out"

out=$("$VPCCTL" --region-db="$SSL" --private-key="$PKI/host-a-privkey.pem" \
      --certificate="$PKI/host-a-cert.pem" --ca-cert="$CA" \
      create-network-interface --network-interface-id eni-rogue \
      --subnet-id subnet-web --private-ip-address 10.10.1.91 \
      --mac-address 02:00:00:10:01:91 --host host-a 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'RBAC rules for client' <<<"$out" \
    && pass "vpcctl with host-a's certificate cannot write an ENI (RBAC refuses it)" \
    || fail "vpcctl with host-a's certificate: exit $rc: $out"

echo "without a certificate of the CA:"
(cd "$PKI" && mkdir -p other && cd other && ovs-pki --dir=ca --log=pki.log \
    init >/dev/null 2>&1 && ovs-pki --dir=ca --log=pki.log -u req+sign host-a \
    switch >/dev/null 2>&1) || fail "cannot make a second CA"
out=$(timeout 10 ovsdb-client --private-key="$PKI/other/host-a-privkey.pem" \
      --certificate="$PKI/other/host-a-cert.pem" --ca-cert="$CA" \
      --timeout=3 transact "$SSL" '["OVS_VPC_Region", {"op": "insert",
      "table": "Host_Status", "row": {"host": "host-a", "applied_cfg": 7}}]' 2>&1)
status_row host-a | expect "a host-a certificate of another CA changes nothing" \
    '"applied_cfg":2'

echo "the administrator:"
"$VPCCTL" --region-db="$ADMIN" create-network-interface \
    --network-interface-id eni-admin --subnet-id subnet-web \
    --private-ip-address 10.10.1.90 --mac-address 02:00:00:10:01:90 \
    --host host-a | expect "the unix socket keeps full access (a write commits)" '^cfg '
"$VPCCTL" --region-db="$ADMIN" load "$TOP/examples/web-tier.json" >/dev/null
out=$(as host-a '["OVS_VPC_Region", {"op": "update", "table": "Host_Status",
    "where": [["host", "==", "host-a"]], "row": {"applied_cfg": 3}}]')
allowed "a reload leaves Region.connections (the SSL remote) in place" "$out"
"$VPCCTL" --region-db="$ADMIN" dump | jq -e 'has("connections") | not' \
    >/dev/null && pass "  and dump does not print it" \
    || fail "  dump prints Region.connections"

echo "vpcd over SSL with host-a's certificate:"
ovs_start host-a; sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web-a 1 eni-web-a
ssl_of() {
    echo --private-key="$PKI/$1-privkey.pem" \
        --certificate="$PKI/$1-cert.pem" --ca-cert="$CA"
}
region_cfg() {
    ovsdb-client transact "$ADMIN" '["OVS_VPC_Region", {"op": "select",
        "table": "Region", "where": [], "columns": ["cfg"]}]' \
        | jq '.[0].rows[0].cfg'
}
# wait_status HOST CFG: HOST's Host_Status row says applied_cfg CFG.
wait_status() {
    for _ in $(seq 100); do
        [ "$(status_row "$1")" = "[{\"applied_cfg\":$2}]" ] && return 0
        sleep 0.1
    done
    return 1
}
# What host-a's row says before its vpcd runs: nothing applied.
ovsdb-client transact "$ADMIN" '["OVS_VPC_Region", {"op": "update",
    "table": "Host_Status", "where": [["host", "==", "host-a"]],
    "row": {"applied_cfg": 0}}]' >/dev/null
# shellcheck disable=SC2046
vpcd_start host-a "" --region-db="$SSL" $(ssl_of host-a)
cfg=$(region_cfg)
vpcd_expect_wait "host-a's vpcd follows $SSL and applies cfg $cfg" \
    host-a ".in_sync and .region_db.connected
            and .region_db.applied_cfg == $cfg" 10
wait_status host-a "$cfg" \
    && pass "  and acknowledges it in its own Host_Status row (RBAC lets it)" \
    || fail "  host-a's Host_Status row: $(status_row host-a), cfg $cfg"
"$VPCCTL" --region-db="$ADMIN" status | grep '^host-a ' \
    | expect "  vpcctl status: host-a $cfg/$cfg in sync" \
        "^host-a +$cfg/$cfg +in sync$"
# (Not --wait: host-b and edge-1 have no vpcd that acknowledges here.)
out=$("$VPCCTL" --region-db="$ADMIN" create-network-interface \
      --network-interface-id eni-ssl --subnet-id subnet-web \
      --private-ip-address 10.10.1.92 --mac-address 02:00:00:10:01:92 \
      --host host-a 2>&1); rc=$?
cfg=$((cfg + 1))
[ $rc = 0 ] && wait_status host-a "$cfg" \
    && pass "a new ENI on host-a: its vpcd applies and acknowledges cfg $cfg" \
    || fail "create-network-interface: exit $rc: $out; host-a: $(status_row host-a)"
vpcd_status host-a '.region_db.tables.ENI.rows' \
    | expect "  host-a's replica holds the new ENI" '^[3-9]$'
log=${OVS_DIR[host-a]}/vpcd.log
grep -q "following the region database at $SSL" "$log" \
    && ! grep -q 'Host_Status: ' "$log" \
    && pass "  host-a's vpcd logged no refused Host_Status write" \
    || fail "  host-a's vpcd.log: $(grep -E 'region database|Host_Status' "$log")"

echo "vpcd with host-a's certificate claiming host-b:"
ovs_start host-b; sandbox_host host-b 192.168.100.2
b0=$(status_row host-b)
# shellcheck disable=SC2046
vpcd_start host-b "" --region-db="$SSL" $(ssl_of host-a)
vpcd_expect_wait "it reads its scope and applies cfg $cfg" \
    host-b ".region_db.connected and .region_db.applied_cfg == $cfg" 10
refusal=
for _ in $(seq 100); do
    refusal=$(tr -d '\\' <"${OVS_DIR[host-b]}/vpcd.log" | grep -o \
        'RBAC rules for client "host-a" role "vpc-host" prohibit[a-z ]*"[^"]*"' \
        | head -1)
    [ -n "$refusal" ] && break
    sleep 0.1
done
[ -n "$refusal" ] && pass "  but its Host_Status write is refused: $refusal" \
    || fail "  no RBAC refusal in host-b's vpcd.log"
[ "$(status_row host-b)" = "$b0" ] \
    && pass "  host-b's row is unchanged ($b0)" \
    || fail "  host-b's row changed: $(status_row host-b), was $b0"
"$VPCCTL" --region-db="$ADMIN" status | grep '^host-b ' \
    | expect_not "  vpcctl status does not show host-b in sync" 'in sync'

ovs_stop_all
pid_stop "$DB/region.pid"
finish

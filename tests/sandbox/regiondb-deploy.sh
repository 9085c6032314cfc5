#!/usr/bin/env bash
# Sandbox: scripts/vpc-regiondb-ctl, the control plane's deploy script
# (docs/deploy.md).  It creates a 3-member Raft cluster on 127.0.0.1 TCP
# ports (create-cluster, join-cluster, start-member), starts a relay in
# front of it (start-relay), reports roles (status); a region loaded through
# the members is read back whole through the relay; join-host writes a
# host's vpcd settings (and adds it to the region), with which a vpcd beside
# a real ovs-vswitchd follows the relay; the members and the relay stop by
# their pid files (stop-member, stop-relay).  Misuse gets a clear error.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
. "$TOP/tests/vpcd-lib.sh"

for tool in ovsdb-server ovsdb-client ovsdb-tool jq ss; do
    command -v "$tool" >/dev/null || skip "$tool not found"
done
D=$TEST_DIR/cp
ctl() {
    VPC_REGIONDB_SCHEMA=$REGION_SCHEMA VPCCTL=$VPCCTL \
        "$TOP/scripts/vpc-regiondb-ctl" "$@" --db-dir="$D/db" \
        --run-dir="$D/run" --log-dir="$D/log" --timeout=20
}
cleanup() {
    local p
    for p in "$D"/run/*.pid; do [ -f "$p" ] && pid_stop "$p"; done
    ovs_stop_all
}
trap 'cleanup; exit 143' INT TERM

# Six free ports: Raft and client ports of three members.
for i in 1 2 3; do
    vpcd_free_port; RAFT[$i]=$VPCD_FREE_PORT
    vpcd_free_port; PORT[$i]=$VPCD_FREE_PORT
done
vpcd_free_port; RELAY_PORT=$VPCD_FREE_PORT
MEMBERS=tcp:127.0.0.1:${PORT[1]},tcp:127.0.0.1:${PORT[2]},tcp:127.0.0.1:${PORT[3]}
RELAY=tcp:127.0.0.1:$RELAY_PORT

echo "create-cluster, join-cluster, start-member: three members on TCP"
ctl create-cluster --name=s1 --raft=tcp:127.0.0.1:${RAFT[1]} \
    | expect "create-cluster makes the first member's database" 'created .*/s1.db: the first member'
for i in 2 3; do
    ctl join-cluster --name=s$i --raft=tcp:127.0.0.1:${RAFT[$i]} \
        --peers=tcp:127.0.0.1:${RAFT[1]} \
        | expect "join-cluster makes s$i's database" "created .*/s$i.db: joins the cluster"
done
for i in 1 2 3; do
    ctl start-member --name=s$i --remote=ptcp:${PORT[$i]}:127.0.0.1 \
        | expect "start-member s$i serves the database on its port" \
                 "member s$i: serving OVS_VPC_Region on ptcp:${PORT[$i]}:127.0.0.1"
done
expect_status "create-cluster refuses an existing database" 1 \
    ctl create-cluster --name=s1 --raft=tcp:127.0.0.1:${RAFT[1]}
ctl create-cluster --name=s1 --raft=tcp:127.0.0.1:${RAFT[1]} 2>&1 \
    | expect "... saying why" 's1.db exists: a member.s database is created once'
ctl start-member --name=s1 --remote=ptcp:${PORT[1]}:127.0.0.1 2>&1 \
    | expect "start-member refuses a member already running" 'member s1 is already running'

# roles: the Raft role of each member, from status.
roles() {
    local i
    for i in 1 2 3; do ctl status --name=s$i | sed -n 's/^Role: //p'; done | sort | tr '\n' ' '
}
for _ in $(seq 100); do [ "$(roles)" = "follower follower leader " ] && break; sleep 0.1; done
roles | expect "status: one leader and two followers" '^follower follower leader $'
ctl status --name=s2 | grep -c '^    [0-9a-f]\{4\} ([0-9a-f]\{4\} at tcp:127.0.0.1:' \
    | expect "status: s2 knows the three members at their TCP addresses" '^3$'
ctl status --name=s2 | expect "status: the client remote" "^listening: ptcp:${PORT[2]}:127.0.0.1"

echo "start-relay: a relay in front of the members"
ctl start-relay --name=r1 --members="$MEMBERS" --remote=ptcp:$RELAY_PORT:127.0.0.1 \
    | expect "start-relay serves the database" "relay r1: serving OVS_VPC_Region on ptcp:$RELAY_PORT"
ctl start-relay --name=r2 2>&1 \
    | expect "start-relay without --members says it is required" 'start-relay: --members=REMOTES is required'
ctl status --relay --name=r1 | expect "status --relay: the relay's database and remote" "listening: ptcp:$RELAY_PORT"

R=$TEST_DIR/region.json
cat > "$R" <<JSON
{ "hosts": [ {"id":"host-b","underlay_ip":"192.168.100.2"} ],
  "vpcs": [ {"id":"vpc-m","cidr_blocks":["10.0.0.0/16"],"vni":100} ],
  "subnets": [ {"id":"subnet-m","vpc":"vpc-m","cidr":"10.0.1.0/24"} ],
  "security_groups": [
    {"id":"sg-m","vpc":"vpc-m",
     "ingress":[{"protocol":"icmp","icmp_type":8,"cidr":"10.0.0.0/16"}],
     "egress":[{"protocol":"-1","cidr":"0.0.0.0/0"}]} ],
  "enis": [ {"id":"eni-b1","subnet":"subnet-m","mac":"02:00:00:00:01:14",
             "private_ip":"10.0.1.20","host":"host-b","security_groups":["sg-m"]} ] }
JSON
"$VPCCTL" --region-db="$MEMBERS" load "$R" | expect "a region loads through the members' TCP remotes" 'cfg 1,'
"$VPCCTL" --region-db="$RELAY" dump > "$TEST_DIR/dump.json" 2>>"$TEST_DIR/stderr.log"
json_norm "$R" > "$TEST_DIR/want.json"
json_norm "$TEST_DIR/dump.json" > "$TEST_DIR/got.json"
cmp -s "$TEST_DIR/want.json" "$TEST_DIR/got.json" \
    && pass "the region read through the relay is the region loaded" \
    || { fail "the relay's region differs"; diff "$TEST_DIR/want.json" "$TEST_DIR/got.json" | head -5; }

echo "join-host: a host follows the relay"
ctl join-host --host=host-a --relays="$RELAY" --members="$MEMBERS" \
    --underlay-ip=192.168.100.1 --output="$TEST_DIR/host-a.env" \
    | expect "join-host writes the host's vpcd settings" "wrote .*host-a.env: host-a follows $RELAY"
expect "... VPCD_OPTS names the relay" "^VPCD_OPTS=\"--region-db=$RELAY\"$" < "$TEST_DIR/host-a.env"
"$VPCCTL" --region-db="$MEMBERS" get hosts host-a 2>/dev/null \
    | expect "... and host-a is in the region" '"underlay_ip": "192.168.100.1"'
ctl join-host --host=host-c --relays=tcp:127.0.0.1:1 --timeout=1 2>&1 \
    | expect "join-host through a relay that does not answer fails, saying so" \
             'host-c cannot reach OVS_VPC_Region through tcp:127.0.0.1:1'
"$VPCCTL" --region-db="$MEMBERS" create-network-interface --network-interface-id eni-a1 \
    --subnet-id subnet-m --private-ip-address 10.0.1.10 --mac-address 02:00:00:00:01:0a \
    --host host-a --groups sg-m >/dev/null || fail "create-network-interface eni-a1"
cfg=$(ovsdb-client --timeout=20 transact "$MEMBERS" '["OVS_VPC_Region",{"op":"select","table":"Region","where":[],"columns":["cfg"]}]' 2>/dev/null \
      | jq '.[0].rows[0].cfg')
ovs_start host-a; sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-a1 1 eni-a1
opts=$(. "$TEST_DIR/host-a.env"; echo "$VPCD_OPTS")
# shellcheck disable=SC2086
vpcd_start host-a "" $opts
vpcd_expect_wait "vpcd with join-host's settings follows the relay, in sync" host-a \
    ".in_sync and .region_db.applied_cfg == $cfg and .region_db.connected" 20
vpcd_status host-a '.region_db.remotes' | expect "... connected to the relay" "^$RELAY$"
vpcd_status host-a '.region_db.tables.ENI.rows' | expect "... with host-a's VPC's two ENIs" '^2$'

echo "SSL: a relay on pssl:, join-host over SSL with --pki-dir"
if command -v ovs-pki >/dev/null; then
    PKI=$TEST_DIR/pki
    mkdir -p "$PKI"
    pki() { ovs-pki --dir="$PKI/ca" --log="$PKI/pki.log" "$@" >/dev/null 2>&1; }
    (cd "$PKI" && pki init && pki -u req+sign relay switch \
        && pki -u req+sign host-b switch) || fail "ovs-pki could not make the certificates"
    CA=$PKI/ca/switchca/cacert.pem
    vpcd_free_port; SSL_PORT=$VPCD_FREE_PORT
    ctl start-relay --name=r2 --members="$MEMBERS" --remote=pssl:$SSL_PORT:127.0.0.1 2>&1 \
        | expect "start-relay on pssl: without the SSL files says what it needs" \
                 'needs --private-key, --certificate and --ca-cert'
    ctl start-relay --name=r2 --members="$MEMBERS" --remote=pssl:$SSL_PORT:127.0.0.1 \
        --private-key="$PKI/relay-privkey.pem" --certificate="$PKI/relay-cert.pem" \
        --ca-cert="$CA" \
        | expect "start-relay serves the database on pssl:" "relay r2: serving OVS_VPC_Region on pssl:$SSL_PORT"
    ctl join-host --host=host-b --relays=ssl:127.0.0.1:$SSL_PORT \
        --private-key="$PKI/host-b-privkey.pem" --certificate="$PKI/host-b-cert.pem" \
        --ca-cert="$CA" --pki-dir="$TEST_DIR/host-b-pki" --output="$TEST_DIR/host-b.env" \
        | expect "join-host over SSL writes host-b's settings" 'wrote .*host-b.env'
    expect "... naming the copied key, certificate and CA" \
        "^VPCD_OPTS=\"--region-db=ssl:127.0.0.1:$SSL_PORT --private-key=$TEST_DIR/host-b-pki/host-b-privkey.pem --certificate=$TEST_DIR/host-b-pki/host-b-cert.pem --ca-cert=$TEST_DIR/host-b-pki/cacert.pem\"$" \
        < "$TEST_DIR/host-b.env"
    stat -c %a "$TEST_DIR/host-b-pki/host-b-privkey.pem" | expect "... the key copied with mode 600" '^600$'
    opts=$(. "$TEST_DIR/host-b.env"; echo "$VPCD_OPTS")
    # shellcheck disable=SC2086
    "$VPCCTL" $opts dump 2>/dev/null | jq -r '.enis[].id' | sort | tr '\n' ' ' \
        | expect "host-b's settings read the region through the SSL relay" '^eni-a1 eni-b1 $'
    ctl join-host --host=host-b --relays=ssl:127.0.0.1:$SSL_PORT --timeout=2 2>&1 \
        | expect "join-host to an ssl: relay without the files says what it needs" \
                 'needs --private-key, --certificate and --ca-cert'
    ctl stop-relay --name=r2 | expect "stop-relay stops the SSL relay" 'relay r2 stopped'
else
    echo "  (ovs-pki not found: no SSL checks)"
fi

echo "stop-relay, stop-member"
ctl stop-relay --name=r1 | expect "stop-relay stops the relay" 'relay r1 stopped'
for i in 3 2 1; do
    pid=$(cat "$D/run/s$i.pid")
    ctl stop-member --name=s$i | expect "stop-member stops s$i" "member s$i stopped"
    kill -0 "$pid" 2>/dev/null && fail "s$i (pid $pid) still runs" || pass "s$i's process is gone"
done

cleanup
finish

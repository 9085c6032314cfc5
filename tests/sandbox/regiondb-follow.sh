#!/usr/bin/env bash
# Sandbox: vpcd --region-db on three hosts and an edge beside real
# ovs-vswitchds, following a real ovsdb-server (docs/regiondb.md, "The
# follower").
# Changes are whole documents loaded with vpcctl load (edited with jq);
# each is checked through the switches (ofproto/trace on the sender and
# the receiver) and through every host's Host_Status acknowledgement:
# an ENI created on host-b is reached from host-a, deleted it is not,
# moved to host-c traffic follows (host-c's scope widens); a security-group
# rule added takes effect; a host with no presence in a VPC receives no
# row of it while a host with one does; flow logs follow the scope too;
# vpcctl status; a scoped document
# that does not compile keeps the flows and reports the error; a restarted
# vpcd resumes without re-adding a flow; PUT /v1/intents and the watched
# file are imports into the database.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
. "$TOP/tests/vpcd-lib.sh"

R=$TEST_DIR/region.json
eni() { printf '{"id":"%s","subnet":"%s","mac":"%s","private_ip":"%s","host":"%s","security_groups":["%s"]}' "$@"; }
cat > "$R" <<JSON
{ "hosts": [ {"id":"host-a","underlay_ip":"192.168.100.1"},
             {"id":"host-b","underlay_ip":"192.168.100.2"},
             {"id":"host-c","underlay_ip":"192.168.100.3"} ],
  "edges": [ {"id":"edge-1","underlay_ip":"192.168.100.254",
              "uplink_gateway_mac":"02:99:00:00:00:01",
              "uplink_mac":"02:76:70:ee:00:fe"},
             {"id":"edge-2","underlay_ip":"192.168.100.253",
              "uplink_gateway_mac":"02:99:00:00:00:02",
              "uplink_mac":"02:76:70:ee:00:fd"} ],
  "internet_gateways": [ {"id":"igw-x","vpc":"vpc-x","edge":"edge-2"},
                         {"id":"igw-m","vpc":"vpc-m","edge":"edge-1"} ],
  "route_tables": [ {"id":"rtb-m","vpc":"vpc-m",
                     "routes":[{"destination":"0.0.0.0/0","target":"igw-m"}]} ],
  "vpcs": [ {"id":"vpc-m","cidr_blocks":["10.0.0.0/16"],"vni":100},
            {"id":"vpc-x","cidr_blocks":["10.5.0.0/16"],"vni":500} ],
  "subnets": [ {"id":"subnet-m","vpc":"vpc-m","cidr":"10.0.1.0/24","route_table":"rtb-m"},
               {"id":"subnet-x","vpc":"vpc-x","cidr":"10.5.1.0/24"} ],
  "security_groups": [
    {"id":"sg-m","vpc":"vpc-m",
     "ingress":[{"protocol":"icmp","icmp_type":8,"cidr":"10.0.0.0/16"}],
     "egress":[{"protocol":"-1","cidr":"0.0.0.0/0"}]},
    {"id":"sg-x","vpc":"vpc-x",
     "ingress":[{"protocol":"-1","cidr":"10.5.0.0/16"}],
     "egress":[{"protocol":"-1","cidr":"0.0.0.0/0"}]} ],
  "enis": [ $(eni eni-a1 subnet-m 02:00:00:00:01:0a 10.0.1.10 host-a sg-m),
            $(eni eni-b1 subnet-m 02:00:00:00:01:14 10.0.1.20 host-b sg-m),
            $(eni eni-x1 subnet-x 02:00:00:05:01:0a 10.5.1.10 host-c sg-x) ] }
JSON
jq '(.enis[] | select(.id == "eni-a1") | .elastic_ip) = "203.0.113.10"' "$R" > "$R.new" \
    && mv "$R.new" "$R"

mkdir -p "$TEST_DIR/rdb"
regiondb_start "$TEST_DIR/rdb"
trap 'pid_stop "$TEST_DIR/rdb/region.pid"; ovs_stop_all; exit 143' INT TERM
"$VPCCTL" --region-db="$REGION_DB" load "$R" | expect "the region loads (cfg 1)" 'cfg 1,'
cfg=1

ovs_start host-a; sandbox_host host-a 192.168.100.1
ovs_start host-b; sandbox_host host-b 192.168.100.2
ovs_start host-c; sandbox_host host-c 192.168.100.3
sandbox_edge edge-1 192.168.100.254
sandbox_edge edge-2 192.168.100.253
ALL="host-a host-b host-c edge-1 edge-2"
sandbox_vm host-a vm-a1 1 eni-a1
sandbox_vm host-b vm-b1 1 eni-b1
sandbox_vm host-b vm-b2 2 eni-b2        # bound before the ENI exists
sandbox_vm host-c vm-x1 1 eni-x1
sandbox_vm host-c vm-b1 2 eni-b1        # where eni-b1 will move
sandbox_vm host-b vm-x2 3 eni-x2        # vpc-x on host-b, later
for h in $ALL; do
    for i in 1 2 3 253 254; do
        appctl_on $h tnl/arp/set br-phy 192.168.100.$i "02:ee:00:00:00:$(printf %02x $i)" >/dev/null
    done
    vpcd_start $h "" --region-db="$REGION_DB" --verify-incremental
done

# synced CFG HOST...: every HOST has applied CFG, in sync.
synced() {
    local h
    for h in "${@:2}"; do
        vpcd_wait $h ".in_sync and .region_db.applied_cfg == $1" 10 || return 1
    done
}
# load FILE: the next cfg, through vpcctl load.
load() {
    "$VPCCTL" --region-db="$REGION_DB" load "$1" >/dev/null \
        && cfg=$((cfg + 1)) || fail "vpcctl load $1"
}
# edit JQ: $R edited in place.
edit() { jq "$1" "$R" > "$R.new" && mv "$R.new" "$R"; }
# tx FROM-HOST 'from ENI to IP ...': the sender's trace verdict.
tx() { vpcctl_on "$1" trace "$R" --host "$1" "$2" 2>&1 | grep '^Verdict'; }
# rx HOST VNI TUN_SRC DL_DST NW_SRC NW_DST [tcp DPORT]: the receiver's
# ofproto/trace of a Geneve packet from TUN_SRC; prints its datapath
# actions (dp_actions).
rx() {
    local h=$1 ul proto="icmp,icmp_type=8"
    ul=$(jq -r --arg h "$h" '.hosts[] | select(.id == $h) | .underlay_ip' "$R")
    [ $# -gt 6 ] && proto="tcp,tp_dst=$8"
    appctl_on "$h" ofproto/trace br-int "in_port=1000,tun_id=$2,tun_src=$3,tun_dst=$ul,dl_dst=$4,$proto,nw_src=$5,nw_dst=$6" \
        --ct-next trk,new 2>&1 | dp_actions
}

echo "Three hosts follow the database"
synced 1 $ALL \
    && pass "every vpcd applied cfg 1 and is in sync" \
    || fail "not every vpcd applied cfg 1"
vpcd_status host-a '.region_db.scope' | expect "host-a's scope is vpc-m only" '^vpc-m$'
vpcd_status host-c '.region_db.scope' | expect "host-c's scope is vpc-x only" '^vpc-x$'
vpcd_status host-a '.region_db.tables.ENI.rows' | expect "host-a replicates vpc-m's two ENIs, not eni-x1" '^2$'
vpcd_status host-a '.region_db.tables.VPC.rows' | expect "... and one VPC row" '^1$'
vpcd_status host-a '.flows' | expect "host-a has flows" '^[1-9][0-9]+$'
[ "$(of_count host-a)" = "$(vpcd_status host-a .flows)" ] \
    && pass "br-int of host-a holds the flows vpcd reports" \
    || fail "br-int of host-a: $(of_count host-a) flows, vpcd $(vpcd_status host-a .flows)"
"$VPCCTL" --region-db="$REGION_DB" status > "$TEST_DIR/status.txt"; rc=$?
[ $rc = 0 ] && pass "vpcctl status exits 0 when every host is in sync" \
    || fail "vpcctl status exits $rc"
expect "vpcctl status: one line per host, applied/cfg, in sync" \
    '^host-b +1/1 +in sync$' < "$TEST_DIR/status.txt"
[ "$(grep -c 'in sync$' "$TEST_DIR/status.txt")" = 5 ] \
    && pass "vpcctl status shows the three hosts and the two edges in sync" \
    || { fail "vpcctl status:"; cat "$TEST_DIR/status.txt"; }
ovsdb-client transact "$REGION_DB" '["OVS_VPC_Region",{"op":"select","table":"ENI","where":[["id","==","eni-a1"]],"columns":["vpc"]},{"op":"select","table":"VPC","where":[["id","==","vpc-m"]],"columns":["_uuid"]}]' \
    | jq -e '.[0].rows[0].vpc == .[1].rows[0]._uuid' >/dev/null \
    && pass "rdb_load fills the derived ENI.vpc column" \
    || fail "ENI.vpc is not eni-a1's VPC"
tx host-a 'from eni-a1 to 10.0.1.20 icmp' \
    | expect "host-a reaches eni-b1 on host-b" 'ENCAPSULATED to 192\.168\.100\.2, VNI 100'
# same_flows HOST: the flows vpcd compiled from its scoped replica are the
# flows of the whole document (vpcctl compile, same bindings).  Cookies
# aside: they name an entry's index in its list, and the database keeps
# nested lists as sets (docs/regiondb.md, "The follower").
same_flows() {
    local nocookie='s/cookie=0x[0-9a-f]*, //'
    vpcctl_on "$1" compile "$R" --host "$1" 2>/dev/null | grep cookie= \
        | sed "$nocookie" | sort > "$TEST_DIR/whole.flows"
    vpcd_appctl "$1" vpcd/dump-flows | grep cookie= | sed "$nocookie" \
        | sort > "$TEST_DIR/scoped.flows"
    if [ -s "$TEST_DIR/whole.flows" ] && cmp -s "$TEST_DIR/whole.flows" "$TEST_DIR/scoped.flows"; then
        pass "$1: the scoped document compiles to the whole document's $(wc -l < "$TEST_DIR/whole.flows") flows"
    else
        fail "$1: scoped and whole-document flows differ"
        diff "$TEST_DIR/whole.flows" "$TEST_DIR/scoped.flows" | head -10 | sed 's/^/       | /'
    fi
}
same_flows host-a; same_flows host-c; same_flows edge-1
vpcd_status edge-1 '.region_db.scope' | expect "edge-1's scope: vpc-m, of its internet gateway" '^vpc-m$'
vpcd_status edge-2 '.region_db.scope' | expect "edge-2's scope: vpc-x, of its internet gateway" '^vpc-x$'
# igw-m is the second gateway of the region (VNI 0xf00001) but the only one
# of host-a's and edge-1's scoped documents: the follower keeps its
# region-wide VNI (reserved_vni).
tx host-a 'from eni-a1 to 198.51.100.7 icmp' \
    | expect "host-a sends internet traffic to edge-1 with igw-m's region-wide VNI" 'ENCAPSULATED to 192\.168\.100\.254, VNI 15728641'
same_flows edge-2

echo "An ENI created on host-b"
tx host-a 'from eni-a1 to 10.0.1.22 icmp' \
    | expect_not "before: host-a does not encapsulate to 10.0.1.22" 'ENCAPSULATED'
B2=$(dp_port host-b vm-b2)
rx host-b 100 192.168.100.1 02:00:00:00:01:16 10.0.1.10 10.0.1.22 \
    | expect_not "before: host-b does not deliver to vm-b2" ",$B2\$"
a_rec=$(vpcd_status host-a '.region_db.scope_recomputes')
edit '.enis += [{"id":"eni-b2","subnet":"subnet-m","mac":"02:00:00:00:01:16","private_ip":"10.0.1.22","host":"host-b","security_groups":["sg-m"]}]'
load "$R"
synced $cfg $ALL \
    && pass "every host and edge acknowledges cfg $cfg" || fail "not all hosts acknowledge cfg $cfg"
tx host-a 'from eni-a1 to 10.0.1.22 icmp' \
    | expect "host-a encapsulates to eni-b2 on host-b" 'ENCAPSULATED to 192\.168\.100\.2, VNI 100, in stage mapping by eni-b2'
rx host-b 100 192.168.100.1 02:00:00:00:01:16 10.0.1.10 10.0.1.22 \
    | expect "host-b delivers it to vm-b2" "ct\\(commit,zone=[0-9]+\\),$B2\$"
vpcd_status host-c '.region_db.incremental_changes.cfg_only' \
    | expect "host-c (no vpc-m) acknowledged without recompiling" '^[1-9]'
if [ "$VPC_MAPPING" = action ]; then
    vpcd_status host-a '.region_db.incremental_changes.remote_eni' \
        | expect "host-a (action mode): a remote ENI, handled incrementally" '^1$'
    vpcd_status host-a '.region_db.scope_recomputes' \
        | expect "... without a recompute" "^$a_rec\$"
    grep 'cache entries only' "${OVS_DIR[host-a]}/vpcd.log" \
        | expect "... installing cache entries only" 'remote ENI\), flows unchanged|cache entries only'
else
    vpcd_status host-a '.region_db.incremental_changes.remote_eni' \
        | expect "host-a (flows mode): a remote ENI has a flow, so it recomputes" '^0$'
fi
same_flows host-a

echo "The ENI deleted"
edit 'del(.enis[] | select(.id == "eni-b2"))'
load "$R"
synced $cfg $ALL \
    && pass "every host and edge acknowledges cfg $cfg" || fail "not all hosts acknowledge cfg $cfg"
tx host-a 'from eni-a1 to 10.0.1.22 icmp' \
    | expect_not "host-a no longer encapsulates to 10.0.1.22" 'ENCAPSULATED'
rx host-b 100 192.168.100.1 02:00:00:00:01:16 10.0.1.10 10.0.1.22 \
    | expect_not "host-b no longer delivers to vm-b2" ",$B2\$"
same_flows host-a

echo "A security-group rule added"
B1=$(dp_port host-b vm-b1)
rx host-b 100 192.168.100.1 02:00:00:00:01:14 10.0.1.10 10.0.1.20 tcp 22 \
    | expect "before: ssh to eni-b1 is dropped at host-b" '^Datapath actions: drop$'
edit '(.security_groups[] | select(.id == "sg-m") | .ingress) += [{"protocol":"tcp","from_port":22,"to_port":22,"cidr":"10.0.0.0/16"}]'
load "$R"
synced $cfg $ALL \
    && pass "every host and edge acknowledges cfg $cfg" || fail "not all hosts acknowledge cfg $cfg"
rx host-b 100 192.168.100.1 02:00:00:00:01:14 10.0.1.10 10.0.1.20 tcp 22 \
    | expect "after: ssh to eni-b1 is delivered" "ct\\(commit,zone=[0-9]+\\),$B1\$"

echo "A VM of a group that names itself starts on another host"
# sg-m's new rule names sg-m: host-a's sg_in then matches every member of
# sg-m, so an ENI of sg-m on host-b changes host-a's flows.  Both changes
# compile only some stages (the group's, then the ones that name other
# hosts' ENIs); --verify-incremental compares each with a whole compile.
edit '(.security_groups[] | select(.id == "sg-m") | .ingress) += [{"protocol":"tcp","from_port":5432,"to_port":5432,"security_group":"sg-m"}]'
load "$R"
synced $cfg $ALL || fail "not all hosts acknowledge cfg $cfg"
p0=$(vpcd_status host-a .partial_compiles)
edit ".enis += [$(eni eni-b9 subnet-m 02:00:00:00:01:1d 10.0.1.29 host-b sg-m)]"
load "$R"
synced $cfg $ALL \
    && pass "every host and edge acknowledges cfg $cfg" || fail "not all hosts acknowledge cfg $cfg"
vpcd_status host-a ".partial_compiles > $p0" \
    | expect "host-a compiled the other host's new member in part" '^true$'
ofctl_on host-a dump-flows br-int | grep -c "nw_src=10.0.1.29" \
    | expect "... and its sg_in matches the new member" '^[1-9]'
same_flows host-a

echo "A host with no presence in a VPC receives none of its rows"
a_eni=$(vpcd_status host-a '.region_db.tables.ENI.changes')
e_eni=$(vpcd_status edge-1 '.region_db.tables.ENI.changes')
c_eni=$(vpcd_status host-c '.region_db.tables.ENI.changes')
a_rec=$(vpcd_status host-a '.region_db.scope_recomputes')
edit '.enis += [{"id":"eni-x2","subnet":"subnet-x","mac":"02:00:00:05:01:14","private_ip":"10.5.1.20","host":"host-b","security_groups":["sg-x"]}]'
load "$R"
synced $cfg $ALL \
    && pass "every host and edge acknowledges cfg $cfg" || fail "not all hosts acknowledge cfg $cfg"
[ "$(vpcd_status host-a '.region_db.tables.ENI.changes')" = "$a_eni" ] \
    && pass "host-a (no vpc-x) received no ENI row change" \
    || fail "host-a received ENI changes: $a_eni -> $(vpcd_status host-a '.region_db.tables.ENI.changes')"
[ "$(vpcd_status edge-1 '.region_db.tables.ENI.changes')" = "$e_eni" ] \
    && pass "edge-1 (a gateway of vpc-m only) received none either" \
    || fail "edge-1 received vpc-x's ENI"
[ "$(vpcd_status host-a '.region_db.scope_recomputes')" = "$a_rec" ] \
    && pass "... and recompiled nothing" || fail "host-a recompiled for vpc-x"
vpcd_status host-a '.region_db.tables.VPC.rows' | expect "... and still holds one VPC row" '^1$'
[ "$(vpcd_status host-c '.region_db.tables.ENI.changes')" -gt "$c_eni" ] \
    && pass "host-c (vpc-x) received the new ENI" || fail "host-c did not receive eni-x2"
vpcd_status host-b '.region_db.scope' | expect "host-b's scope widened to vpc-x" '^vpc-m vpc-x$'
tx host-c 'from eni-x1 to 10.5.1.20 icmp' \
    | expect "host-c reaches eni-x2 on host-b" 'ENCAPSULATED to 192\.168\.100\.2, VNI 500, in stage mapping by eni-x2'
X2=$(dp_port host-b vm-x2)
rx host-b 500 192.168.100.3 02:00:00:05:01:14 10.5.1.10 10.5.1.20 \
    | expect "host-b delivers it (vpc-x flows after the new conditions)" "ct\\(commit,zone=[0-9]+\\),$X2\$"

echo "An object write reaches only the hosts it affects (stamps)"
# Writes stamp the new Region.cfg on the VPCs of the changed object
# (VPC.cfg) or, for an object of no VPC, on Region.global_cfg; followers
# do not monitor Region.cfg, so a host whose scope holds none of those
# VPCs receives nothing at all (docs/regiondb.md, "Stamps").
rdbw() { "$VPCCTL" --region-db="$REGION_DB" "$@"; }
rcfg() {
    ovsdb-client transact "$REGION_DB" '["OVS_VPC_Region",{"op":"select","table":"Region","where":[],"columns":["cfg"]}]' \
        | jq '.[0].rows[0].cfg'
}
# snap HOST: its replica versions received and row changes per table.
snap() { vpcd_status "$1" '[.region_db.updates, (.region_db.tables | map_values(.changes))]' | jq -c .; }
# quiesce HOST: until it receives nothing more (its own status echoes).
quiesce() {
    local u v i
    u=$(snap "$1")
    for i in $(seq 50); do
        sleep 0.2; v=$(snap "$1")
        [ "$u" = "$v" ] && return 0
        u=$v
    done
}
for h in $ALL; do quiesce $h; done
a0=$(snap host-a); e0=$(snap edge-1)
a_cfg=$(vpcd_status host-a .region_db.applied_cfg)
rdbw --wait=10 authorize-security-group-ingress --group-id sg-x --protocol tcp \
    --port 80 --cidr 10.5.0.0/16 >/dev/null \
    && pass "a rule added to sg-x (vpc-x) with --wait: every host it affects applied it" \
    || fail "vpcctl --wait authorize-security-group-ingress sg-x failed"
c=$(rcfg); cfg=$c
for h in host-b host-c edge-2; do
    [ "$(vpcd_status $h .region_db.applied_cfg)" = "$c" ] \
        && pass "$h (vpc-x in scope) acknowledges cfg $c" \
        || fail "$h acknowledges $(vpcd_status $h .region_db.applied_cfg), not $c"
done
ofctl_on host-c dump-flows br-int | grep -c 'tp_dst=80' \
    | expect "host-c's flows open port 80" '^[1-9]'
[ "$(snap host-a)" = "$a0" ] \
    && pass "host-a (no vpc-x) received no update at all: $a0" \
    || fail "host-a received an update: $a0 -> $(snap host-a)"
[ "$(snap edge-1)" = "$e0" ] \
    && pass "edge-1 (no vpc-x) received no update at all" \
    || fail "edge-1 received an update: $e0 -> $(snap edge-1)"
vpcd_status host-a .region_db.applied_cfg \
    | expect "host-a's acknowledgement stays at cfg $a_cfg (< $c), the last change that reached it" "^$a_cfg\$"
rdbw status > "$TEST_DIR/status.txt"; rc=$?
[ $rc = 0 ] && pass "vpcctl status exits 0: every host has applied what its scope needs" \
    || { fail "vpcctl status exits $rc"; cat "$TEST_DIR/status.txt"; }
expect "vpcctl status: the region's cfg" "^region cfg $c\$" < "$TEST_DIR/status.txt"
expect "vpcctl status: host-a needs only cfg $a_cfg and is in sync" \
    "^host-a +$a_cfg/$a_cfg +in sync\$" < "$TEST_DIR/status.txt"
expect "vpcctl status: host-c needs cfg $c and is in sync" \
    "^host-c +$c/$c +in sync\$" < "$TEST_DIR/status.txt"

# A host that does not apply a change of its scope is behind, and only it.
kill -STOP "$(vpcd_pid host-a)"
rdbw --wait=1 authorize-security-group-ingress --group-id sg-m --protocol tcp \
    --port 8080 --cidr 10.0.0.0/16 > "$TEST_DIR/wait.out" 2>&1; rc=$?
c=$(rcfg); cfg=$c
[ $rc = 1 ] && grep -q "had not applied it: host-a (applied $a_cfg)\$" "$TEST_DIR/wait.out" \
    && pass "a change of vpc-m with host-a's vpcd stopped: --wait times out naming host-a only" \
    || { fail "--wait with host-a stopped: exit $rc"; cat "$TEST_DIR/wait.out"; }
rdbw status > "$TEST_DIR/status.txt"; rc=$?
[ $rc = 3 ] && pass "vpcctl status exits 3" || fail "vpcctl status exits $rc"
expect "vpcctl status: host-a needs cfg $c and is behind" \
    "^host-a +$a_cfg/$c +behind\$" < "$TEST_DIR/status.txt"
expect "vpcctl status: host-c (no vpc-m) is still in sync" \
    '^host-c +[0-9]+/[0-9]+ +in sync$' < "$TEST_DIR/status.txt"
kill -CONT "$(vpcd_pid host-a)"
vpcd_wait host-a ".in_sync and .region_db.applied_cfg == $c" 10 \
    && pass "host-a resumed and acknowledges cfg $c" \
    || fail "host-a did not acknowledge cfg $c: $(vpcd_status host-a .region_db.applied_cfg)"
rdbw status >/dev/null && pass "vpcctl status exits 0 again" \
    || fail "vpcctl status: $(rdbw status)"

# An object of no VPC (a prefix list) reaches, and is acknowledged by,
# every host.
for h in $ALL; do quiesce $h; done
r0=$(vpcd_status host-a .region_db.tables.Region.changes)
echo '{"id":"pl-stamp","name":"stamp","cidrs":["198.51.100.0/24"]}' \
    | rdbw --wait=10 put prefix_lists - >/dev/null \
    && pass "a prefix list put with --wait: every host applied it" \
    || fail "vpcctl --wait put prefix_lists failed"
c=$(rcfg); cfg=$c
n=0
for h in $ALL; do
    vpcd_status $h ".region_db.applied_cfg == $c and .region_db.global_cfg == $c" \
        | grep -q true && n=$((n + 1))
done
[ $n = 5 ] && pass "every host and edge acknowledges cfg $c (Region.global_cfg)" \
    || fail "only $n of 5 hosts acknowledge the global change $c"
[ "$(vpcd_status host-a .region_db.tables.Region.changes)" -gt "$r0" ] \
    && pass "host-a received it as a change of the Region row" \
    || fail "host-a's Region row did not change"

# Scope shrinking and widening: host-b's only vpc-x ENI moves to host-c
# and back; each time host-b is waited for (the host the ENI leaves or
# joins) and acknowledges the stamp of vpc-x it saw.
rdbw --wait=10 modify-network-interface-attribute --network-interface-id eni-x2 \
    --host host-c >/dev/null \
    && pass "eni-x2 moved to host-c with --wait: host-b and host-c applied it" \
    || fail "vpcctl --wait modify-network-interface-attribute eni-x2 --host host-c failed"
c=$(rcfg)
vpcd_status host-b '.region_db.scope' | expect "host-b's scope shrank to vpc-m" '^vpc-m$'
vpcd_wait host-b ".region_db.applied_cfg == $c" 1 \
    && pass "host-b acknowledges cfg $c, stamped on vpc-x, which left its scope" \
    || fail "host-b acknowledges $(vpcd_status host-b .region_db.applied_cfg), not $c"
rdbw --wait=10 modify-network-interface-attribute --network-interface-id eni-x2 \
    --host host-b >/dev/null \
    && pass "eni-x2 moved back with --wait" \
    || fail "vpcctl --wait modify-network-interface-attribute eni-x2 --host host-b failed"
c=$(rcfg); cfg=$c
vpcd_status host-b '.region_db.scope' | expect "host-b's scope widened to vpc-x again" '^vpc-m vpc-x$'
vpcd_wait host-b ".in_sync and .region_db.applied_cfg == $c" 10 \
    && pass "host-b acknowledges cfg $c once vpc-x is replicated again" \
    || fail "host-b acknowledges $(vpcd_status host-b .region_db.applied_cfg), not $c"
rx host-b 500 192.168.100.3 02:00:00:05:01:14 10.5.1.10 10.5.1.20 \
    | expect "host-b delivers to eni-x2 again" "ct\\(commit,zone=[0-9]+\\),$X2\$"

# A gateway deleted moves the gateways after it up one place: igw-m (vpc-m)
# takes igw-x's region-wide VNI, so host-a is affected (stamped through
# vpc-m, waited for) although igw-x is not of its scope.
rdbw --wait=10 delete internet_gateways igw-x > "$TEST_DIR/del.out" 2>&1 \
    && pass "igw-x deleted with --wait" \
    || { fail "vpcctl --wait delete internet_gateways igw-x"; cat "$TEST_DIR/del.out"; }
c=$(rcfg)
vpcd_wait host-a ".in_sync and .region_db.applied_cfg == $c" 10 \
    && pass "host-a acknowledges cfg $c: igw-m moved to the first place" \
    || fail "host-a acknowledges $(vpcd_status host-a .region_db.applied_cfg), not $c"
tx host-a 'from eni-a1 to 198.51.100.7 icmp' \
    | expect "host-a sends internet traffic with igw-m's new VNI" 'ENCAPSULATED to 192\.168\.100\.254, VNI 15728640'
echo '{"id":"igw-x","vpc":"vpc-x","edge":"edge-2"}' \
    | rdbw --wait=10 put internet_gateways - >/dev/null \
    && pass "igw-x back, after igw-m" || fail "vpcctl put internet_gateways igw-x"
c=$(rcfg); cfg=$c
# The document the next changes edit: the database's (nested lists in its
# order, which is what the flows' conjunction ids follow).
rdbw dump > "$R"

echo "Peers: a peer's own peering with a VPC out of scope is left out"
edit '.vpcs += [{"id":"vpc-p","cidr_blocks":["10.7.0.0/16"],"vni":700},
               {"id":"vpc-q","cidr_blocks":["10.8.0.0/16"],"vni":800}]
      | .subnets += [{"id":"subnet-p","vpc":"vpc-p","cidr":"10.7.1.0/24"},
                     {"id":"subnet-q","vpc":"vpc-q","cidr":"10.8.1.0/24"}]
      | .peering_connections = [{"id":"pcx-mp","requester_vpc":"vpc-m","accepter_vpc":"vpc-p"},
                                {"id":"pcx-pq","requester_vpc":"vpc-p","accepter_vpc":"vpc-q"}]'
load "$R"
synced $cfg $ALL \
    && pass "every host and edge acknowledges cfg $cfg" || fail "not all hosts acknowledge cfg $cfg"
vpcd_status host-a '.region_db.scope' | expect "host-a's scope: vpc-m and its peer vpc-p, not vpc-q" '^vpc-m vpc-p$'
vpcd_status host-a '.region_db.pruned_objects' \
    | expect "host-a leaves out pcx-pq (it names vpc-q, outside the replica)" '^[1-9]'
same_flows host-a
# vpc-p's group names a group of vpc-q (its own peer): host-a compiles
# nothing of vpc-p's rules, but its replica must resolve the reference,
# so vpc-q joins the scope through the rule's security_group_vpc.
edit '.security_groups += [{"id":"sg-q","vpc":"vpc-q"},
        {"id":"sg-p","vpc":"vpc-p","ingress":[{"protocol":"tcp","from_port":80,"to_port":80,"security_group":"sg-q"}]}]'
load "$R"
synced $cfg $ALL \
    && pass "every host and edge acknowledges cfg $cfg" || fail "not all hosts acknowledge cfg $cfg"
vpcd_status host-a '.region_db.scope' \
    | expect "a rule of in-scope sg-p naming sg-q brings vpc-q into host-a's scope" '^vpc-m vpc-p vpc-q$'
vpcd_status host-a '.region_db.tables.Security_Group.rows' \
    | expect "... with sg-q replicated (sg-m, sg-p, sg-q)" '^3$'
same_flows host-a

echo "An ENI moved from host-b to host-c"
edit '(.enis[] | select(.id == "eni-b1") | .host) = "host-c"'
load "$R"
synced $cfg $ALL \
    && pass "every host and edge acknowledges cfg $cfg" || fail "not all hosts acknowledge cfg $cfg"
tx host-a 'from eni-a1 to 10.0.1.20 icmp' \
    | expect "host-a now encapsulates to host-c" 'ENCAPSULATED to 192\.168\.100\.3, VNI 100, in stage mapping by eni-b1'
C1=$(dp_port host-c vm-b1)
rx host-c 100 192.168.100.1 02:00:00:00:01:14 10.0.1.10 10.0.1.20 \
    | expect "host-c delivers it to eni-b1 (its scope widened to vpc-m)" "ct\\(commit,zone=[0-9]+\\),$C1\$"
rx host-b 100 192.168.100.1 02:00:00:00:01:14 10.0.1.10 10.0.1.20 \
    | expect_not "host-b no longer delivers to eni-b1" ",$B1\$"
vpcd_status host-c '.region_db.scope' | expect "host-c's scope: vpc-m, its peer vpc-p (and vpc-q, named by sg-p), vpc-x" '^vpc-m vpc-p vpc-q vpc-x$'
same_flows host-a; same_flows host-b; same_flows host-c
grep -q 'waiting for the server to acknowledge' "${OVS_DIR[host-c]}/vpcd.log" \
    && pass "host-c waited for the widened conditions' acknowledgement" \
    || fail "host-c's log does not show the condition change"

echo "A scoped document that does not compile keeps the flows"
before=$(ofctl_on host-a dump-flows br-int --no-stats | grep cookie= | sort)
ovsdb-client transact "$REGION_DB" '["OVS_VPC_Region",{"op":"update","table":"ENI","where":[["id","==","eni-a1"]],"row":{"private_ip":"10.0.1.999"}},{"op":"mutate","table":"Region","where":[],"mutations":[["cfg","+=",1]]}]' >/dev/null \
    && cfg=$((cfg + 1))
vpcd_expect_wait "host-a reports the error (in_sync false)" host-a \
    '(.in_sync | not) and (.region_db.error | test("does not compile"))' 10
vpcd_http host-a GET /metrics >/dev/null
expect "... /metrics says the same: vpcd_in_sync 0" '^vpcd_in_sync 0$' <<<"$VPCD_BODY"
[ "$(ofctl_on host-a dump-flows br-int --no-stats | grep cookie= | sort)" = "$before" ] \
    && pass "host-a's flows are unchanged" || fail "host-a's flows changed"
"$VPCCTL" --region-db="$REGION_DB" status > "$TEST_DIR/status.txt"; rc=$?
[ $rc = 3 ] && pass "vpcctl status exits 3 while a host reports an error" \
    || fail "vpcctl status exits $rc"
expect "vpcctl status shows host-a's error" '^host-a .*error: .*10\.0\.1\.999' < "$TEST_DIR/status.txt"
load "$R"
synced $cfg $ALL \
    && pass "a good document clears the error everywhere (cfg $cfg)" \
    || fail "the error stays"

echo "A restarted vpcd resumes without re-adding flows"
[ "$VPC_MAPPING" = action ] \
    && gen=$(appctl_on host-b vpcmap/stats | grep -o 'generation=[0-9]*')
vpcd_kill host-b TERM
sleep 0.2
vpcd_start host-b "" --region-db="$REGION_DB" --verify-incremental
synced $cfg host-b && pass "host-b's new vpcd acknowledges cfg $cfg" \
    || fail "host-b's new vpcd does not acknowledge cfg $cfg"
grep 'applied version 1 from region database' "${OVS_DIR[host-b]}/vpcd.log" | tail -1 \
    | expect "... and added, modified, deleted no flow" '\(0 added, 0 modified, 0 deleted\)'
if [ "$VPC_MAPPING" = action ]; then
    # Every vpcmap/add, del or load bumps the cache's generation.
    appctl_on host-b vpcmap/stats \
        | expect "... nor wrote the mapping cache (still $gen)" "$gen( |\$)"
fi

echo "The database restarts: the followers reconnect and resume"
a_flows=$(ofctl_on host-a dump-flows br-int --no-stats | grep cookie= | sort)
pid_stop "$TEST_DIR/rdb/region.pid"
vpcd_expect_wait "host-a notices the database is gone" host-a '.region_db.connected | not' 10
vpcd_status host-a .in_sync | expect "... not in sync" '^false$'
vpcd_http host-a GET /metrics >/dev/null
expect "... /metrics: vpcd_in_sync 0" '^vpcd_in_sync 0$' <<<"$VPCD_BODY"
expect "... and vpcd_region_db_connected 0" '^vpcd_region_db_connected 0$' <<<"$VPCD_BODY"
RDB=$TEST_DIR/rdb
ovsdb-server "$RDB/region.db" --remote="punix:$RDB/region.sock" \
    --pidfile="$RDB/region.pid" --unixctl="$RDB/region.ctl" \
    --log-file="$RDB/region.log" -vconsole:off --detach --no-chdir \
    2>>"$RDB/stderr.log"
vpcd_expect_wait "host-a reconnects" host-a '.region_db.connected and .in_sync' 10
vpcd_http host-a GET /metrics >/dev/null
expect "... /metrics: vpcd_in_sync 1" '^vpcd_in_sync 1$' <<<"$VPCD_BODY"
[ "$(ofctl_on host-a dump-flows br-int --no-stats | grep cookie= | sort)" = "$a_flows" ] \
    && pass "host-a's flows are unchanged across the database restart" \
    || fail "host-a's flows changed when the database restarted"
edit '.enis += [{"id":"eni-b4","subnet":"subnet-m","mac":"02:00:00:00:01:18","private_ip":"10.0.1.24","host":"host-b","security_groups":["sg-m"]}]'
load "$R"
synced $cfg $ALL \
    && pass "every host and the edge apply the next change (cfg $cfg)" \
    || fail "not all hosts acknowledge cfg $cfg after the restart"
tx host-a 'from eni-a1 to 10.0.1.24 icmp' \
    | expect "host-a reaches the ENI added after the restart" 'ENCAPSULATED to 192\.168\.100\.2, VNI 100, in stage mapping by eni-b4'

echo "PUT /v1/intents and the watched file import into the database"
edit '.enis += [{"id":"eni-b3","subnet":"subnet-m","mac":"02:00:00:00:01:17","private_ip":"10.0.1.23","host":"host-b","security_groups":["sg-m"]}]'
vpcd_http host-a PUT /v1/intents "$R" >/dev/null
[ "$VPCD_STATUS" = 200 ] && jq -e ".imported and .cfg == $((cfg + 1))" <<<"$VPCD_BODY" >/dev/null \
    && pass "PUT on host-a imports the document (cfg $((cfg + 1)))" \
    || fail "PUT: $VPCD_STATUS $VPCD_BODY"
cfg=$((cfg + 1))
synced $cfg $ALL \
    && pass "every host applies the imported cfg $cfg" || fail "not every host applies cfg $cfg"
tx host-a 'from eni-a1 to 10.0.1.23 icmp' \
    | expect "host-a reaches the ENI the PUT added" 'ENCAPSULATED to 192\.168\.100\.2, VNI 100, in stage mapping by eni-b3'
jq '.subnets[0].cidr = "10.0.1.0/33"' "$R" > "$TEST_DIR/bad.json"
vpcd_http host-a PUT /v1/intents "$TEST_DIR/bad.json" >/dev/null
[ "$VPCD_STATUS" = 400 ] && pass "an invalid PUT is refused (400)" || fail "invalid PUT: $VPCD_STATUS"
"$VPCCTL" --region-db="$REGION_DB" status | expect "... and imports nothing (cfg $cfg)" "^region cfg $cfg\$"
F=$TEST_DIR/watched.json
edit 'del(.enis[] | select(.id == "eni-b3"))'
cp "$R" "$F"
vpcd_kill host-c TERM
vpcd_start host-c "" --region-db="$REGION_DB" --intents="$F" --verify-incremental
cfg=$((cfg + 1))
synced $cfg $ALL \
    && pass "host-c's watched file is imported and applied everywhere (cfg $cfg)" \
    || fail "the watched file was not imported"
tx host-a 'from eni-a1 to 10.0.1.23 icmp' \
    | expect_not "host-a no longer reaches the ENI the file removed" 'ENCAPSULATED'
vpcd_http host-c PUT /v1/intents "$R" >/dev/null
[ "$VPCD_STATUS" = 409 ] && pass "a PUT to host-c, which watches a file: 409" \
    || fail "PUT to a vpcd that watches a file: $VPCD_STATUS $VPCD_BODY"
"$VPCCTL" --region-db="$REGION_DB" status | expect "... and imports nothing (cfg $cfg)" "^region cfg $cfg\$"

echo "Flow logs follow the scope"
# One flow log per VPC: each host replicates its VPCs' (the derived
# Flow_Log.vpc column), and compiles them as the whole document does.
edit '.flow_logs = [{"id":"fl-m","resource":"vpc-m","traffic_type":"ALL"},
                    {"id":"fl-x","resource":"subnet-x","traffic_type":"REJECT"}]'
load "$R"
synced $cfg $ALL \
    && pass "every host applies the flow logs (cfg $cfg)" || fail "not every host applies cfg $cfg"
vpcd_status host-a '.region_db.tables.Flow_Log.rows' \
    | expect "host-a (vpc-m) replicates one flow log, vpc-m's" '^1$'
vpcd_status edge-2 '.region_db.tables.Flow_Log.rows' \
    | expect "edge-2 (vpc-x) replicates one flow log, subnet-x's" '^1$'
vpcd_appctl host-a vpcd/dump-flows | grep -c 'sample(' \
    | expect "host-a's flows sample for fl-m" '^[1-9]'
same_flows host-a
edit 'del(.flow_logs)'
load "$R"
synced $cfg $ALL \
    && pass "every host applies the flow logs' removal (cfg $cfg)" || fail "not every host applies cfg $cfg"
vpcd_appctl host-a vpcd/dump-flows | grep -c 'sample(' \
    | expect "host-a's flows sample no more" '^0$'

echo "Counters"
vpcd_status host-a '.source | .origin == "region-db" and .sha256 == null
                    and (.accepted_at | test("^20[0-9-]+T"))' \
    | expect "status: the document in force comes from the region database (no hash: its cfg is its identity)" '^true$'
vpcd_http host-a GET /metrics >/dev/null
for m in vpcd_scope_recomputes_total 'vpcd_incremental_changes_total\{kind="cfg_only"\}' \
         vpcd_region_db_applied_cfg 'vpcd_change_latency_seconds\{quantile="0.5"\}' \
         'vpcd_region_db_row_changes_total\{table="ENI"\}'; do
    expect "/metrics has $m" "^$m [0-9]" <<<"$VPCD_BODY"
done
expect_not "... and no metric in milliseconds" '^vpcd_[a-z_]*_ms(_[a-z]+)?[{ ]' <<<"$VPCD_BODY"
awk '/^vpcd_change_latency_seconds\{quantile="0.99"\}/ { found = 1; ok = $2 > 0 && $2 < 60 }
     END { exit !(found && ok) }' <<<"$VPCD_BODY" \
    && pass "... the change latency in seconds (p99 $(awk '/^vpcd_change_latency_seconds\{quantile="0.99"\}/ { print $2 }' <<<"$VPCD_BODY") s)" \
    || fail "vpcd_change_latency_seconds p99 is not a number of seconds: $(grep change_latency <<<"$VPCD_BODY")"
grep -q 'recomputing host-a.s scope and flows' "${OVS_DIR[host-a]}/vpcd.log" \
    && pass "the log says when a change is recomputed" || fail "no recompute in the log"
for h in $ALL; do
    # --verify-incremental dumped the replica afresh after every change:
    # the dump cache must have agreed each time.
    vpcd_status "$h" '.region_db.dump_cache.mismatches' \
        | expect "$h's dump cache always matched a fresh dump" '^0$'
done
vpcd_status host-a '.region_db.dump_cache.rows_reused > 0' \
    | expect "host-a's dumps reused cached rows" '^true$'
for h in $ALL; do
    # ...and every partial compile (security groups, routes) must have
    # equalled a whole one.
    vpcd_status "$h" .partial_mismatches \
        | expect "$h's partial compiles always equalled whole ones" '^0$'
done
vpcd_status host-a '.partial_compiles > 0' \
    | expect "host-a compiled some changes in part" '^true$'
for h in $ALL; do
    echo "  $h: $(vpcd_status "$h" '.region_db | "updates=\(.updates) recomputes=\(.scope_recomputes) scope_changes=\(.scope_changes) incremental=\(.incremental_changes) change_ms p50=\(.change_ms_p50) p99=\(.change_ms_p99)"')"
done
pid_stop "$TEST_DIR/rdb/region.pid"
finish

#!/usr/bin/env bash
# Sandbox: the region database as a 3-member Raft cluster with two relays
# (docs/deploy.md), under faults.  Two hosts with real ovs-vswitchds follow
# it through the relays (vpcd --region-db, one relay each); vpc-regiond
# writes through the member list.
#
#   1. kill -9 the leader a third of the way into a stream of 1,000 ENI
#      writes (PUT /v1/enis/ID): a new leader is elected; every write the
#      API acknowledged (200) is in the database, once, with every column
#      as written, and on both hosts (their scoped documents, and their
#      switches hold the flows vpcd reports); a write not acknowledged is
#      there whole or not at all.
#   2. rolling restart: every member in turn stopped and started again on
#      its database file while a slower stream of writes runs; no
#      acknowledged write lost, the hosts never lose a flow (the switches'
#      flow counts sampled throughout never drop, and no vpcd apply deletes
#      a flow or reinstalls them all), and everything converges (vpcctl
#      status: every host in sync).
#   3. a write whose reply is lost (a test hook drops the connection once
#      the transaction is sent): it commits; a create then fails saying it
#      may have been committed, a put is retried and succeeds.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
. "$TOP/tests/vpcd-lib.sh"

for tool in ovsdb-server ovsdb-client ovsdb-tool jq curl; do
    command -v "$tool" >/dev/null || skip "$tool not found"
done
REGIOND=$TOP/build/vpc-regiond
N_WRITES=${N_WRITES:-1000}
DB=$TEST_DIR/cluster
SOCK=$DB/api.sock

cleanup() {
    [ -n "${WRITER:-}" ] && kill "$WRITER" 2>/dev/null
    [ -n "${SAMPLER:-}" ] && kill "$SAMPLER" 2>/dev/null
    pid_stop "$DB/regiond.pid"
    regiondb_cluster_stop "$DB" 3
    ovs_stop_all
}
trap 'cleanup; exit 143' INT TERM

R=$TEST_DIR/region.json
cat > "$R" <<JSON
{ "hosts": [ {"id":"host-a","underlay_ip":"192.168.100.1"},
             {"id":"host-b","underlay_ip":"192.168.100.2"} ],
  "vpcs": [ {"id":"vpc-m","cidr_blocks":["10.0.0.0/16"],"vni":100} ],
  "subnets": [ {"id":"subnet-m","vpc":"vpc-m","cidr":"10.0.0.0/16"} ],
  "security_groups": [
    {"id":"sg-m","vpc":"vpc-m",
     "ingress":[{"protocol":"-1","cidr":"10.0.0.0/16"}],
     "egress":[{"protocol":"-1","cidr":"0.0.0.0/0"}]} ],
  "enis": [ {"id":"eni-a0","subnet":"subnet-m","mac":"02:00:00:00:00:0a",
             "private_ip":"10.0.0.10","host":"host-a","security_groups":["sg-m"]},
            {"id":"eni-b0","subnet":"subnet-m","mac":"02:00:00:00:00:0b",
             "private_ip":"10.0.0.11","host":"host-b","security_groups":["sg-m"]} ] }
JSON

echo "A 3-member cluster, two relays, two hosts, vpc-regiond"
regiondb_cluster_start "$DB" 3
MEMBERS=$REGION_MEMBERS
RELAY1=$(regiondb_relay_start "$DB" r1 "$MEMBERS")
RELAY2=$(regiondb_relay_start "$DB" r2 "$MEMBERS")
"$VPCCTL" --region-db="$MEMBERS" load "$R" | expect "the region loads through the member list" 'cfg 1,'
"$REGIOND" --region-db="$MEMBERS" --listen="punix:$SOCK" \
    --pidfile="$DB/regiond.pid" --log-file="$DB/regiond.log" -vconsole:off \
    --detach --no-chdir 2>>"$DB/stderr.log" || fail "vpc-regiond did not start"

ovs_start host-a; sandbox_host host-a 192.168.100.1
ovs_start host-b; sandbox_host host-b 192.168.100.2
sandbox_vm host-a vm-a0 1 eni-a0
sandbox_vm host-b vm-b0 1 eni-b0
vpcd_start host-a "" --region-db="$RELAY1"
vpcd_start host-b "" --region-db="$RELAY2"
for h in host-a host-b; do
    vpcd_expect_wait "$h follows its relay and applies cfg 1" $h \
        '.in_sync and .region_db.applied_cfg == 1' 20
done

# role SERVER: its Raft role (leader, follower, candidate), from
# cluster/status; empty when it does not answer.
role() {
    ovs-appctl -t "$DB/s$1.ctl" cluster/status OVS_VPC_Region 2>/dev/null \
        | sed -n 's/^Role: //p'
}
# leader: the member that is leader (its index), if any.
leader() {
    local i
    for i in 1 2 3; do
        [ -f "$DB/s$i.pid" ] && [ "$(role $i)" = leader ] && { echo $i; return 0; }
    done
    return 1
}
# member_start I: member I again, on its database file.
member_start() {
    ovsdb-server "$DB/s$1.db" --remote="punix:$DB/s$1.sock" \
        --pidfile="$DB/s$1.pid" --unixctl="$DB/s$1.ctl" \
        --log-file="$DB/s$1.log" -vconsole:off --detach --no-chdir \
        2>>"$DB/stderr.log"
}
# member_joined I: member I is a follower or the leader, knows the leader,
# and has applied what the leader committed (its log's last index).
member_joined() {
    local st
    st=$(ovs-appctl -t "$DB/s$1.ctl" cluster/status OVS_VPC_Region 2>/dev/null) \
        || return 1
    grep -Eq '^Role: (leader|follower)$' <<<"$st" \
        && grep -q '^Status: cluster member$' <<<"$st" \
        && ! grep -q '^Leader: unknown$' <<<"$st"
}
wait_for() {   # SECONDS CMD...: CMD succeeds within SECONDS.
    local end=$(($(date +%s) + $1))
    shift
    until "$@"; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.1
    done
}
# eni_json I HOST: the I-th written ENI, one line.
eni_json() {
    printf '{"subnet":"subnet-m","mac":"02:00:01:%02x:%02x:%02x","private_ip":"10.0.%d.%d","host":"%s","security_groups":["sg-m"],"description":"write %d"}' \
        $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)) \
        $(($1 / 200 + 1)) $(($1 % 200 + 10)) "$2" "$1"
}
# writes FIRST LAST LOG [PAUSE BATCH]: PUTs ENIs eni-wFIRST..eni-wLAST
# (alternately on host-a and host-b) through vpc-regiond, BATCH (25)
# requests per curl, PAUSE seconds between batches, until $STOP exists;
# appends "ID HTTP-CODE" per write to LOG (the reply's body in
# $TEST_DIR/w/ID.reply); pauses 0.5 s after a batch with a refused write.  A request that gets no reply
# within 40 s (the API's write timeout is 30 s) counts as 000.
STOP=$TEST_DIR/stop-writing
writes() {
    local first=$1 last=$2 log=$3 pause=${4:-0} batch=${5:-25} i j h cfgf
    cfgf=$TEST_DIR/curl.$first.cfg
    mkdir -p "$TEST_DIR/w"
    for ((i = first; i <= last; i += batch)); do
        [ -e "$STOP" ] && break
        : > "$cfgf"
        for ((j = i; j <= last && j < i + batch; j++)); do
            h=host-a
            [ $((j % 2)) = 1 ] && h=host-b
            eni_json $j $h > "$TEST_DIR/w/$j.json"
            cat >> "$cfgf" <<EOF
url = "http://regiond/v1/enis/eni-w$j"
unix-socket = "$SOCK"
request = "PUT"
data-binary = "@$TEST_DIR/w/$j.json"
header = "Content-Type: application/json"
output = "$TEST_DIR/w/$j.reply"
max-time = 40
silent
write-out = "eni-w$j %{http_code}\\n"
next
EOF
        done
        curl -K "$cfgf" > "$cfgf.out" 2>/dev/null
        cat "$cfgf.out" >> "$log"
        # As a client would, back off for a moment after a refusal.
        if grep -qv ' 200$' "$cfgf.out"; then sleep 0.5
        elif [ "$pause" != 0 ]; then sleep "$pause"
        fi
    done
}
# replies LOG N: LOG has at least N replies.
replies() { [ "$(wc -l < "$1")" -ge "$2" ]; }
# db_enis: every ENI row of the database (through a member), one JSON
# object per line with the columns the writes set; the host and subnet
# resolved to their ids.
db_enis() {
    ovsdb-client --timeout=20 transact "$MEMBERS" '["OVS_VPC_Region",
        {"op":"select","table":"ENI","where":[]},
        {"op":"select","table":"Host","where":[],"columns":["_uuid","id"]},
        {"op":"select","table":"Subnet","where":[],"columns":["_uuid","id"]}]' \
        2>>"$DB/stderr.log" \
    | jq -c '(.[1].rows | map({key: ._uuid[1], value: .id}) | from_entries) as $h
             | (.[2].rows | map({key: ._uuid[1], value: .id}) | from_entries) as $s
             | .[0].rows[] | {id, mac, private_ip,
                 host: $h[.host[1]], subnet: $s[.subnet[1]],
                 description: (if .description | type == "string"
                               then .description else null end)}'
}
# check_writes LOG WHAT N: every write of LOG acknowledged (200) is in the
# database once, as written; every other one is there as written or absent;
# LOG has a reply to each of the N writes.
check_writes() {
    local log=$1 what=$2 id code i h out
    db_enis > "$TEST_DIR/db.enis"
    : > "$TEST_DIR/want.enis"
    while read -r id code; do
        i=${id#eni-w}
        h=host-a; [ $((i % 2)) = 1 ] && h=host-b
        printf '{"id":"%s","code":"%s","want":%s}\n' "$id" "$code" \
            "$(eni_json "$i" "$h")" >> "$TEST_DIR/want.enis"
    done < "$log"
    out=$(jq -rn --slurpfile db "$TEST_DIR/db.enis" \
                 --slurpfile w "$TEST_DIR/want.enis" '
        ($db | group_by(.id) | map(select(length > 1) | .[0].id)) as $dup
        | ($db | map({key: .id, value: .}) | from_entries) as $got
        | [$w[] | . as $x | ($got[.id]) as $g
           | (.want | del(.security_groups) | . + {id: $x.id}) as $want
           | if .code == "200" then
                 if $g == null then "lost \(.id)"
                 elif $g != $want then "wrong \(.id): \($g | tojson)"
                 else "acked" end
             elif $g == null then "absent"
             elif $g == $want then "landed"
             else "partial \(.id) (\(.code)): \($g | tojson)" end] as $r
        | "dup \($dup | length) \($dup[:3] | join(","))",
          "acked \($r | map(select(. == "acked")) | length)",
          "landed \($r | map(select(. == "landed")) | length)",
          "absent \($r | map(select(. == "absent")) | length)",
          ($r[] | select(test("^(lost|wrong|partial)"))),
          ($w[] | select(.code != "200" and $got[.id] != null)
           | "landed-id \(.id)") | .')
    grep -q '^dup 0 ' <<<"$out" && pass "$what: no ENI is in the database twice" \
        || fail "$what: ENIs in the database twice: $(grep '^dup' <<<"$out")"
    local acked landed absent bad
    acked=$(sed -n 's/^acked //p' <<<"$out")
    landed=$(sed -n 's/^landed //p' <<<"$out")
    absent=$(sed -n 's/^absent //p' <<<"$out")
    bad=$(grep -E '^(lost|wrong)' <<<"$out")
    [ -z "$bad" ] && [ "${acked:-0}" -gt 0 ] \
        && pass "$what: all $acked acknowledged writes are in the database with every column as written" \
        || { fail "$what: acknowledged writes lost or changed"; head -5 <<<"$bad" | sed 's/^/       | /'; }
    bad=$(grep '^partial' <<<"$out")
    [ -z "$bad" ] \
        && pass "$what: of $((landed + absent)) unacknowledged writes, $landed landed whole and $absent not at all" \
        || { fail "$what: unacknowledged writes partly in the database"; head -5 <<<"$bad" | sed 's/^/       | /'; }
    # The reply to a write that was committed must not say otherwise.
    local lied=0
    for id in $(sed -n 's/^landed-id //p' <<<"$out"); do
        echo "       | $id landed, reply: $(head -c 300 "$TEST_DIR/w/${id#eni-w}.reply")"
        grep -q 'nothing committed' "$TEST_DIR/w/${id#eni-w}.reply" && lied=$((lied + 1))
    done
    [ "$lied" = 0 ] \
        && pass "$what: no reply to a write that landed says nothing was committed" \
        || fail "$what: $lied replies say nothing was committed for writes that landed"
    local n000
    n000=$(grep -c ' 000$' "$log")
    [ "$(wc -l < "$log")" = "$3" ] && [ "$n000" = 0 ] \
        && pass "$what: the writer got a reply to each of its $3 writes" \
        || fail "$what: $(wc -l < "$log") replies to $3 writes, $n000 without a reply within 40 s"
}
# hosts_converged WHAT: both hosts applied the database's cfg, in sync, their
# scoped documents hold exactly the database's ENIs, their switches the
# flows vpcd reports.
hosts_converged() {
    local cfg h
    cfg=$(ovsdb-client --timeout=20 transact "$MEMBERS" '["OVS_VPC_Region",{"op":"select","table":"Region","where":[],"columns":["cfg"]}]' 2>>"$DB/stderr.log" \
          | jq '.[0].rows[0].cfg')
    jq -r .id "$TEST_DIR/db.enis" | sort > "$TEST_DIR/db.ids"
    for h in host-a host-b; do
        vpcd_expect_wait "$1: $h applied the database's cfg $cfg and is in sync" \
            $h ".in_sync and .region_db.applied_cfg == $cfg" 60
        vpcd_http $h GET /v1/intents > /dev/null
        jq -r '.enis[].id' <<<"$VPCD_BODY" | sort > "$TEST_DIR/$h.ids"
        cmp -s "$TEST_DIR/db.ids" "$TEST_DIR/$h.ids" \
            && pass "$1: $h's document holds the database's $(wc -l < "$TEST_DIR/db.ids") ENIs" \
            || { fail "$1: $h's document and the database differ"
                 diff "$TEST_DIR/db.ids" "$TEST_DIR/$h.ids" | head -5 | sed 's/^/       | /'; }
        local of vf
        of=$(of_count $h); vf=$(vpcd_status $h .flows)
        [ "$of" = "$vf" ] && pass "$1: br-int of $h holds the $vf flows vpcd reports" \
            || fail "$1: br-int of $h has $of flows, vpcd reports $vf"
    done
}

echo "kill -9 the leader during a stream of $N_WRITES writes"
old=$(leader) && pass "s$old is the leader" || fail "no leader"
LOG1=$TEST_DIR/writes1.log
: > "$LOG1"
writes 1 "$N_WRITES" "$LOG1" & WRITER=$!
wait_for 120 replies "$LOG1" $((N_WRITES / 3)) \
    || fail "the writer did not reach write $((N_WRITES / 3))"
lead=$(leader)
kill -9 "$(cat "$DB/s$lead.pid")"
rm -f "$DB/s$lead.pid"
pass "killed the leader s$lead (kill -9) after $(wc -l < "$LOG1") writes"
wait_for 30 leader >/dev/null \
    && pass "a new leader is elected: s$(leader)" || fail "no new leader within 30 s"
wait "$WRITER"; WRITER=
echo "  ($(grep -c ' 200$' "$LOG1") of $N_WRITES writes acknowledged; others:" \
     "$(awk '$2 != 200 { print $2 }' "$LOG1" | sort | uniq -c | tr '\n' ' '))"
tail -$((N_WRITES / 10)) "$LOG1" | grep -c ' 200$' \
    | expect "vpc-regiond writes through the new leader: the stream's last $((N_WRITES / 10)) writes are acknowledged" "^$((N_WRITES / 10))\$"
check_writes "$LOG1" "leader kill" "$N_WRITES"
hosts_converged "leader kill"

echo "The killed member rejoins on its database file"
member_start "$lead"
wait_for 30 member_joined "$lead" \
    && pass "s$lead rejoins the cluster" || fail "s$lead did not rejoin"

echo "Rolling restart of every member during a stream of writes"
# The switches' flow counts and vpcd's, sampled until the stream ends.
SAMPLES=$TEST_DIR/samples
: > "$SAMPLES"
( while :; do
      for h in host-a host-b; do echo "$h $(of_count $h) $(vpcd_status $h .flows)"; done
      sleep 0.2
  done >> "$SAMPLES" ) & SAMPLER=$!
for h in host-a host-b; do
    wc -l < "${OVS_DIR[$h]}/vpcd.log" > "$TEST_DIR/$h.logstart"
done
LOG2=$TEST_DIR/writes2.log
: > "$LOG2"
rm -f "$STOP"
writes $((N_WRITES + 1)) $((N_WRITES + 1000)) "$LOG2" 0.2 5 & WRITER=$!
# acked_since N: at least 5 writes after the first N of LOG2 acknowledged.
acked_since() { [ "$(tail -n +$(($1 + 1)) "$LOG2" | grep -c ' 200$')" -ge 5 ]; }
for i in 1 2 3; do
    n=$(wc -l < "$LOG2")
    pid_stop "$DB/s$i.pid"
    wait_for 30 replies "$LOG2" $((n + 10)) \
        || fail "no write replied while s$i was down"
    member_start $i
    wait_for 30 member_joined $i \
        && pass "s$i restarted and rejoined the cluster" \
        || fail "s$i did not rejoin within 30 s"
    n=$(wc -l < "$LOG2")
    wait_for 30 acked_since $n \
        && pass "after s$i rejoined, writes are acknowledged" \
        || fail "after s$i rejoined, no write is acknowledged within 30 s"
done
touch "$STOP"
wait "$WRITER"; WRITER=
kill "$SAMPLER"; wait "$SAMPLER" 2>/dev/null; SAMPLER=
N2=$(wc -l < "$LOG2")
echo "  ($N2 writes during the restarts: $(grep -c ' 200$' "$LOG2") acknowledged;" \
     "others: $(awk '$2 != 200 { print $2 }' "$LOG2" | sort | uniq -c | tr '\n' ' '))"
check_writes "$LOG2" "rolling restart" "$N2"
hosts_converged "rolling restart"
for h in host-a host-b; do
    awk -v h=$h '$1 == h { if ($2 !~ /^[0-9]+$/) bad++; else { if (n++ && $2 < last) drop++; last = $2 } }
                 END { printf "%d samples, %d unanswered, %d drops\n", n, bad, drop }' "$SAMPLES" \
        | expect "$h: br-int's flow count never drops during the restarts" ' 0 unanswered, 0 drops$'
    tail -n +"$(cat "$TEST_DIR/$h.logstart")" "${OVS_DIR[$h]}/vpcd.log" \
        | sed -n 's/.*applied version [0-9]* from .*: \([0-9]*\) flows (\([0-9]*\) added, [0-9]* modified, \([0-9]*\) deleted).*/\1 \2 \3/p' \
        > "$TEST_DIR/$h.applies"
    awk '$3 > 0 || ($2 == $1 && $1 > 0) { bad++ } END { printf "%d applies, %d deleting or reinstalling\n", NR, bad }' \
        "$TEST_DIR/$h.applies" \
        | expect "$h: no vpcd apply during the restarts deleted a flow or reinstalled them all" '^[1-9][0-9]* applies, 0 deleting'
done
"$VPCCTL" --region-db="$MEMBERS" status > "$TEST_DIR/status.txt"
[ "$(grep -c 'in sync$' "$TEST_DIR/status.txt")" = 2 ] \
    && pass "vpcctl status: both hosts in sync" \
    || { fail "vpcctl status:"; sed 's/^/       | /' "$TEST_DIR/status.txt"; }

echo "A write whose reply is lost (the connection dropped once sent)"
# VPC_RDB_TEST_LOSE_REPLY=1: the first write drops its connection right
# after sending its transaction, as a leader dying before its reply would.
# The transaction commits; the writer cannot know.
out=$(VPC_RDB_TEST_LOSE_REPLY=1 "$VPCCTL" --region-db="$MEMBERS" \
      create-network-interface --network-interface-id eni-lost \
      --subnet-id subnet-m --private-ip-address 10.0.250.10 \
      --mac-address 02:00:02:00:00:01 --host host-a --groups sg-m 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'may or may not have been committed' <<<"$out" \
    && ! grep -q 'nothing committed' <<<"$out" \
    && pass "create-network-interface whose reply was lost fails saying it may have been committed" \
    || { fail "create-network-interface whose reply was lost: exit $rc"; sed 's/^/       | /' <<<"$out"; }
db_enis | jq -c 'select(.id == "eni-lost") | [.private_ip, .mac, .host]' \
    | expect "... and it was: eni-lost is in the database, once, as written" \
             '^\["10.0.250.10","02:00:02:00:00:01","host-a"\]$'
printf '{"id":"eni-lost2","subnet":"subnet-m","mac":"02:00:02:00:00:02","private_ip":"10.0.250.11","host":"host-b","security_groups":["sg-m"]}' \
    | VPC_RDB_TEST_LOSE_REPLY=1 "$VPCCTL" --region-db="$MEMBERS" put enis - >/dev/null 2>&1 \
    && pass "a put whose reply was lost is retried (the same object: the same change) and succeeds" \
    || fail "a put whose reply was lost fails"
db_enis | jq -r 'select(.id == "eni-lost2") | .id' | grep -c . \
    | expect "... eni-lost2 is in the database once" '^1$'

cleanup
finish

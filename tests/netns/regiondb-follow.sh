#!/usr/bin/env bash
# Netns lab, real packets: examples/web-tier.json in a region database, two
# hosts whose vpcd's follow it (vpcd --region-db, inside each host's
# netns).  A real TCP connection from web-a (host-a) to app-b (host-b)
# passes sg-app's group reference (8080 from sg-web) and is refused on
# 9000 until a rule added through the database opens it.
. "$(dirname "$0")/lab.sh"
. "$TOP/tests/vpcd-lib.sh"
EX=$TOP/examples/web-tier.json
lab_require

lab_host host-a 192.168.100.1
lab_host host-b 192.168.100.2
#      host   vm        eni           mac (from the intent) ip              router
lab_vm host-a web-a    eni-web-a    02:00:00:10:01:0a 10.10.1.10/24 10.10.1.1
lab_vm host-a client-a eni-client-a 02:00:00:10:01:14 10.10.1.20/24 10.10.1.1
lab_vm host-b app-b    eni-app-b    02:00:00:10:02:0a 10.10.2.10/24 10.10.2.1
lab_warm

mkdir -p "$TEST_DIR/rdb"
regiondb_start "$TEST_DIR/rdb"
trap 'pid_stop "$TEST_DIR/rdb/region.pid"; lab_cleanup; exit 130' INT TERM
"$VPCCTL" --region-db="$REGION_DB" load "$EX" | expect "the web tier loads (cfg 1)" 'cfg 1,'
for h in host-a host-b; do
    vpcd_start "$h" "$(lab_ns "$h")" --region-db="$REGION_DB" --verify-incremental
done
for h in host-a host-b; do
    vpcd_expect_wait "$h follows the database (cfg 1 applied, in sync)" "$h" \
        '.in_sync and .region_db.applied_cfg == 1' 10
done

echo "A group reference, through the follower's scope"
lab_listen app-b 8080 "app-b here"
lab_connect web-a 10.10.2.10 8080 "hello from web-a" \
    | expect "web-a (sg-web) connects to app-b:8080 over TCP" '^app-b here$'
lab_listen app-b 8080 "app-b here"
out=$(lab_connect client-a 10.10.2.10 8080 "hello from client-a")
expect_not "client-a (not in sg-web) does not" 'app-b here' <<<"${out:-(no answer)}"

echo "A rule added through the database"
lab_listen app-b 9000 "app-b on 9000"
out=$(lab_connect web-a 10.10.2.10 9000 "knock")
expect_not "before: web-a cannot reach app-b:9000" 'app-b on 9000' <<<"${out:-(no answer)}"
jq '(.security_groups[] | select(.id == "sg-app") | .ingress) += [{"protocol": "tcp", "from_port": 9000, "to_port": 9000, "cidr": "10.10.0.0/16"}]' \
    "$EX" > "$TEST_DIR/v2.json"
"$VPCCTL" --region-db="$REGION_DB" load "$TEST_DIR/v2.json" \
    | expect "the rule is loaded (cfg 2)" 'cfg 2,'
for h in host-a host-b; do
    vpcd_expect_wait "$h applies cfg 2" "$h" '.in_sync and .region_db.applied_cfg == 2' 10
done
"$VPCCTL" --region-db="$REGION_DB" status \
    | expect "vpcctl status: host-b in sync at cfg 2" '^host-b +2/2 +in sync$'
lab_connect web-a 10.10.2.10 9000 "knock" \
    | expect "after: web-a connects to app-b:9000 over TCP" '^app-b on 9000$'
expect "app-b received web-a's bytes" '^knock$' < "$TEST_DIR/app-b-9000.in"
if [ "$FAILS" -ne 0 ]; then lab_dump host-a; lab_dump host-b; fi
pid_stop "$TEST_DIR/rdb/region.pid"
finish

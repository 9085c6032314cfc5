#!/usr/bin/env bash
# Sandbox: vpc-regiond, the region API (docs/regiondb.md, "The region
# API").  A real ovsdb-server; vpc-regiond holds it as an IDL replica and
# serves HTTP on a unix socket (mode 0660): PUT/GET/DELETE of one object,
# GET of a collection, a refused PUT (400 with its errors, nothing
# committed), PUT /v1/intents (bulk import) and GET /v1/intents, GET
# /v1/status with the hosts' Host_Status, ?wait=hosts answered once the
# affected hosts (stand-ins written with ovsdb-client) reach the cfg, or
# 504 naming them; then the TLS listener, which refuses a client without
# a certificate.  The mapping mode does not matter here.
. "$(dirname "$0")/../lib.sh"

for tool in ovsdb-server ovsdb-client ovsdb-tool jq curl; do
    command -v "$tool" >/dev/null || skip "no $tool"
done
REGIOND=$TOP/build/vpc-regiond
DB=$TEST_DIR/regiondb
trap 'pid_stop "$DB/api.pid"; pid_stop "$DB/tls.pid"; pid_stop "$DB/region.pid"; exit 143' INT TERM
regiondb_start "$DB"
cfg() {
    ovsdb-client transact "$REGION_DB" '["OVS_VPC_Region", {"op": "select",
        "table": "Region", "where": [], "columns": ["cfg"]}]' \
        | jq '.[0].rows[0].cfg // 0'
}
host_status() {
    ovsdb-client transact "$REGION_DB" "[\"OVS_VPC_Region\",
        {\"op\": \"delete\", \"table\": \"Host_Status\",
         \"where\": [[\"host\", \"==\", \"$1\"]]},
        {\"op\": \"insert\", \"table\": \"Host_Status\",
         \"row\": {\"host\": \"$1\", \"applied_cfg\": $2}}]" >/dev/null
}
"$VPCCTL" --region-db="$REGION_DB" load "$TOP/examples/web-tier.json" \
    >/dev/null || fail "the region does not load"

"$REGIOND" --region-db="$REGION_DB" --listen="punix:$DB/api.sock" \
    --pidfile="$DB/api.pid" --log-file="$DB/api.log" -vconsole:off \
    --detach --no-chdir || fail "vpc-regiond did not start"
SOCK=$DB/api.sock
# api METHOD PATH [BODY-FILE]: prints the body, then the status code.
api() {
    local data=()
    [ $# -ge 3 ] && data=(--data-binary "@$3")
    curl -s --unix-socket "$SOCK" -X "$1" "${data[@]}" \
        -w '\n%{http_code}\n' "http://regiond$2"
}
code() { tail -1 <<<"$1"; }
body() { sed '$d' <<<"$1"; }

echo "the unix socket:"
stat -c %a "$SOCK" | expect "the socket is mode 0660" '^660$'
out=$(api GET /v1/status)
[ "$(code "$out")" = 200 ] && body "$out" | jq -e ".cfg == $(cfg)" >/dev/null \
    && pass "GET /v1/status: 200, cfg $(cfg)" \
    || fail "GET /v1/status: $out"

cat > "$DB/eni.json" <<'EOF'
{"subnet": "subnet-web", "mac": "02:00:00:10:01:77",
 "private_ip": "10.10.1.77", "host": "host-a", "security_groups": ["sg-web"]}
EOF
c0=$(cfg)
out=$(api PUT /v1/enis/eni-api "$DB/eni.json")
[ "$(code "$out")" = 200 ] \
    && body "$out" | jq -e ".cfg == $((c0 + 1)) and .hosts == [\"edge-1\",\"host-a\",\"host-b\"]" >/dev/null \
    && pass "PUT /v1/enis/eni-api: 200, cfg $((c0 + 1)), hosts edge-1 host-a host-b" \
    || fail "PUT /v1/enis/eni-api: $out"
"$VPCCTL" --region-db="$REGION_DB" get enis eni-api | jq -c '[.private_ip, .host]' \
    | expect "  vpcctl get sees it in the database" '^\["10.10.1.77","host-a"\]$'
out=$(api GET /v1/enis/eni-api)
[ "$(code "$out")" = 200 ] && body "$out" | jq -e '.private_ip == "10.10.1.77"' >/dev/null \
    && pass "GET /v1/enis/eni-api: 200, the object" || fail "GET /v1/enis/eni-api: $out"
out=$(api GET /v1/enis)
[ "$(code "$out")" = 200 ] && body "$out" | jq -e 'length == 5 and any(.[]; .id == "eni-api")' >/dev/null \
    && pass "GET /v1/enis: 200, the 5 ENIs" || fail "GET /v1/enis: $out"

# A bad PUT: the IP is taken.  400, the error, nothing committed.
jq '.mac = "02:00:00:10:01:78"' "$DB/eni.json" > "$DB/dup.json"
c1=$(cfg)
out=$(api PUT /v1/enis/eni-dup "$DB/dup.json")
[ "$(code "$out")" = 400 ] \
    && body "$out" | jq -e '.valid == false and (.errors | length == 1)
        and (.errors[0].message | test("enis\\[eni-dup\\].private_ip: \"10.10.1.77\": duplicate IP in vpc-web"))
        and .errors[0].path == "$.enis[eni-dup].private_ip" and .errors[0].value == "10.10.1.77"' >/dev/null \
    && pass "a PUT of a taken IP: 400 {valid: false, errors: [its PATH: VALUE: RULE]}" \
    || fail "a PUT of a taken IP: $out"
[ "$(cfg)" = "$c1" ] && pass "  nothing committed (cfg $c1)" \
    || fail "  cfg moved to $(cfg)"
out=$(api GET /v1/enis/eni-dup)
[ "$(code "$out")" = 404 ] && pass "  GET of it: 404" || fail "  GET of it: $out"
echo '{"id": "eni-other"}' > "$DB/wrongid.json"
out=$(api PUT /v1/enis/eni-x "$DB/wrongid.json")
[ "$(code "$out")" = 400 ] && pass "a PUT whose body names another id: 400" \
    || fail "a PUT whose body names another id: $out"
echo '{not json' > "$DB/bad.json"
out=$(api PUT /v1/enis/eni-x "$DB/bad.json")
[ "$(code "$out")" = 400 ] && body "$out" | jq -e '.error | test("malformed")' >/dev/null \
    && pass "malformed JSON: 400" || fail "malformed JSON: $out"
out=$(api GET /v1/nothing)
[ "$(code "$out")" = 404 ] && pass "an unknown collection: 404" \
    || fail "an unknown collection: $out"

out=$(api DELETE /v1/security_groups/sg-web)
[ "$(code "$out")" = 400 ] && body "$out" | jq -e 'any(.errors[].message; test("security_groups\\[0\\]: \"sg-web\": no security group has this id"))' >/dev/null \
    && pass "DELETE of a referenced group: 400 with the referencing paths" \
    || fail "DELETE of a referenced group: $out"
out=$(api DELETE /v1/enis/eni-api)
[ "$(code "$out")" = 200 ] && pass "DELETE /v1/enis/eni-api: 200" \
    || fail "DELETE /v1/enis/eni-api: $out"
out=$(api GET /v1/enis/eni-api)
[ "$(code "$out")" = 404 ] && pass "  then GET: 404" || fail "  then GET: $out"

# The hosts a write affects (its reply's "hosts"): those whose scope holds
# the object's VPC.  vpc-two (host-c) is alone, then peered with vpc-web;
# vpc-three (host-d) is peered with vpc-two only, and a rule of vpc-two's
# sg-two names its sg-three: that puts vpc-three in the scope of every
# host that has vpc-two in scope (host-a, host-b, edge-1 by the peering).
# put_hosts WHAT PATH JSON HOSTS-JSON: the PUT commits, naming HOSTS.
put_hosts() {
    printf '%s\n' "$3" > "$DB/obj.json"
    local out; out=$(api PUT "$2" "$DB/obj.json")
    if [ "$(code "$out")" = 200 ] && body "$out" | jq -e ".hosts == $4" >/dev/null; then
        pass "$1: hosts $4"
    else fail "$1 (wanted hosts $4): $out"; fi
}
put_hosts "a host (no VPC: every host)" /v1/hosts/host-c \
    '{"underlay_ip": "192.168.100.3"}' '["edge-1","host-a","host-b","host-c"]'
api PUT /v1/hosts/host-d <(echo '{"underlay_ip": "192.168.100.4"}') >/dev/null
for v in two three; do
    n=$([ $v = two ] && echo 20 || echo 30)
    api PUT /v1/vpcs/vpc-$v <(echo "{\"cidr_blocks\": [\"10.$n.0.0/16\"], \"vni\": $n$n}") >/dev/null
    api PUT /v1/subnets/subnet-$v <(echo "{\"vpc\": \"vpc-$v\", \"cidr\": \"10.$n.1.0/24\"}") >/dev/null
    api PUT /v1/security_groups/sg-$v <(echo "{\"vpc\": \"vpc-$v\"}") >/dev/null
done
put_hosts "an ENI of vpc-two on host-c" /v1/enis/eni-two \
    '{"subnet": "subnet-two", "mac": "02:00:00:20:01:0a", "private_ip": "10.20.1.10", "host": "host-c"}' \
    '["host-c"]'
put_hosts "an ENI of vpc-three on host-d" /v1/enis/eni-three \
    '{"subnet": "subnet-three", "mac": "02:00:00:30:01:0a", "private_ip": "10.30.1.10", "host": "host-d"}' \
    '["host-d"]'
put_hosts "peering vpc-web with vpc-two" /v1/peering_connections/pcx-web-two \
    '{"requester_vpc": "vpc-web", "accepter_vpc": "vpc-two"}' \
    '["edge-1","host-a","host-b","host-c"]'
put_hosts "peering vpc-two with vpc-three" /v1/peering_connections/pcx-two-three \
    '{"requester_vpc": "vpc-two", "accepter_vpc": "vpc-three"}' \
    '["edge-1","host-a","host-b","host-c","host-d"]'
put_hosts "a group of vpc-three, before any rule names it" /v1/security_groups/sg-three \
    '{"vpc": "vpc-three", "description": "3"}' '["host-c","host-d"]'
put_hosts "sg-two's rule naming sg-three" /v1/security_groups/sg-two \
    '{"vpc": "vpc-two", "ingress": [{"protocol": "tcp", "from_port": 22, "to_port": 22, "security_group": "sg-three"}]}' \
    '["edge-1","host-a","host-b","host-c","host-d"]'
put_hosts "then a change in vpc-three reaches host-a, host-b, edge-1 too" \
    /v1/security_groups/sg-three '{"vpc": "vpc-three", "description": "three"}' \
    '["edge-1","host-a","host-b","host-c","host-d"]'

out=$(api GET /v1/status)
body "$out" | jq -e '.writes.commits == 17 and .writes.refused == 3
    and .writes.validator_rebuilds <= 2' >/dev/null \
    && pass "/v1/status counts the writes: $(body "$out" | jq -c .writes)" \
    || fail "/v1/status write counters: $(body "$out" | jq -c .writes)"

echo "bulk import and dump:"
jq '.enis += [{"id": "eni-bulk", "subnet": "subnet-app",
               "mac": "02:00:00:10:02:99", "private_ip": "10.10.2.99",
               "host": "host-b"}]' "$TOP/examples/web-tier.json" > "$DB/bulk.json"
out=$(api PUT /v1/intents "$DB/bulk.json")
[ "$(code "$out")" = 200 ] && pass "PUT /v1/intents: 200" || fail "PUT /v1/intents: $out"
out=$(api GET /v1/intents)
diff <(json_norm "$DB/bulk.json") <(body "$out" | json_norm /dev/stdin) >/dev/null \
    && pass "GET /v1/intents returns the imported document" \
    || fail "GET /v1/intents differs from the import"
out=$(api GET /v1/enis/eni-bulk)
[ "$(code "$out")" = 200 ] && pass "  and the replica serves its objects" \
    || fail "  GET /v1/enis/eni-bulk after the import: $out"
jq '.vpcs[0].vni = 99999999' "$DB/bulk.json" > "$DB/badbulk.json"
c2=$(cfg)
out=$(api PUT /v1/intents "$DB/badbulk.json")
[ "$(code "$out")" = 400 ] && body "$out" | jq -e 'any(.errors[].message; test("vni"))' >/dev/null \
    && [ "$(cfg)" = "$c2" ] \
    && pass "an invalid import: 400 with its errors, nothing committed" \
    || fail "an invalid import: $out"

echo "?wait=hosts:"
for h in host-a host-b edge-1; do host_status "$h" "$(cfg)"; done
c3=$(cfg)
sed 's/01:77/01:79/; s/1\.77/1.79/' "$DB/eni.json" > "$DB/eni2.json"
curl -s --unix-socket "$SOCK" -X PUT --data-binary "@$DB/eni2.json" \
    -w '\n%{http_code}\n' "http://regiond/v1/enis/eni-wait?wait=hosts&timeout_ms=120000" \
    > "$DB/wait.out" &
cpid=$!
while [ "$(cfg)" = "$c3" ] && kill -0 $cpid 2>/dev/null; do sleep 0.1; done
c4=$(cfg)
host_status host-a "$c4"; host_status host-b "$c4"
sleep 0.5
kill -0 $cpid 2>/dev/null && pass "no reply while edge-1 is behind cfg $c4" \
    || fail "replied while edge-1 was behind: $(cat "$DB/wait.out")"
out=$(api GET /v1/status)
body "$out" | jq -e ".hosts[\"host-a\"].applied_cfg == $c4 and .hosts[\"edge-1\"].applied_cfg == $c3" >/dev/null \
    && pass "  meanwhile the API serves: /v1/status shows each host's applied_cfg" \
    || fail "  /v1/status during the wait: $out"
body "$out" | jq -e ".global_cfg == $c2 and .hosts[\"edge-1\"].needed_cfg == $c4 and .hosts[\"edge-1\"].in_sync == false and .hosts[\"host-a\"].needed_cfg == $c4 and .hosts[\"host-a\"].in_sync" >/dev/null \
    && pass "  /v1/status: each host's needed_cfg (the stamps of its scope), edge-1 not in sync" \
    || fail "  /v1/status needed_cfg/in_sync: $out"
host_status edge-1 "$c4"
wait $cpid
out=$(cat "$DB/wait.out")
[ "$(code "$out")" = 200 ] && body "$out" | jq -e ".applied == true and .cfg == $c4" >/dev/null \
    && pass "  200 {applied: true} once edge-1 reaches cfg $c4" \
    || fail "  the wait ended with: $out"
out=$(curl -s --unix-socket "$SOCK" -X DELETE -w '\n%{http_code}\n' \
    "http://regiond/v1/enis/eni-wait?wait=hosts&timeout_ms=300")
[ "$(code "$out")" = 504 ] \
    && body "$out" | jq -e '.applied == false and (.error | test("host-a \\(applied")) and (.error | test("edge-1"))' >/dev/null \
    && pass "a wait that times out: 504, naming the hosts behind" \
    || fail "a wait that times out: $out"
"$VPCCTL" --region-db="$REGION_DB" get enis | jq -e 'all(.[]; .id != "eni-wait")' \
    >/dev/null && pass "  the delete is committed all the same" \
    || fail "  eni-wait is still there"
out=$(api GET "/v1/status?wait=everyone")
[ "$(code "$out")" = 400 ] && pass "?wait=everyone: 400" || fail "?wait=everyone: $out"

echo "the database restarting:"
pid_stop "$DB/region.pid"
out=$(api PUT /v1/enis/eni-restart "$DB/eni2.json")
[ "$(code "$out")" = 503 ] && body "$out" | jq -e '.error | test("not connected")' >/dev/null \
    && pass "a write while ovsdb-server is down: 503 'not connected', at once" \
    || fail "a write while ovsdb-server is down: $out"
ovsdb-server "$DB/region.db" --remote="punix:$DB/region.sock" \
    --pidfile="$DB/region.pid" --unixctl="$DB/region.ctl" \
    --log-file="$DB/region.log" -vconsole:off --detach --no-chdir \
    2>>"$DB/stderr.log" || fail "ovsdb-server did not restart"
for _ in $(seq 150); do
    body "$(api GET /v1/status)" | jq -e .connected >/dev/null && break
    sleep 0.2
done
c6=$(cfg)
out=$(api PUT /v1/enis/eni-restart "$DB/eni2.json")
[ "$(code "$out")" = 200 ] && [ "$(cfg)" = $((c6 + 1)) ] \
    && pass "once it is back, vpc-regiond reconnects and commits (cfg $((c6 + 1)))" \
    || fail "after the restart: $out"

echo "TLS:"
if command -v ovs-pki >/dev/null && command -v openssl >/dev/null; then
    PKI=$TEST_DIR/pki; mkdir -p "$PKI"
    pki() { ovs-pki --dir="$PKI/ca" --log="$PKI/pki.log" "$@" >/dev/null 2>&1; }
    (cd "$PKI" && pki init && pki -u req+sign regiond switch \
        && pki -u req+sign admin switch) || fail "ovs-pki failed"
    CA=$PKI/ca/switchca/cacert.pem
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$REGIOND" --region-db="$REGION_DB" --listen="ssl:$port:127.0.0.1" \
        --private-key="$PKI/regiond-privkey.pem" \
        --certificate="$PKI/regiond-cert.pem" --ca-cert="$CA" \
        --pidfile="$DB/tls.pid" --log-file="$DB/tls.log" -vconsole:off \
        --detach --no-chdir || fail "vpc-regiond with TLS did not start"
    out=$(curl -s -k --cacert "$CA" --cert "$PKI/admin-cert.pem" \
        --key "$PKI/admin-privkey.pem" -w '\n%{http_code}\n' \
        "https://127.0.0.1:$port/v1/status")
    [ "$(code "$out")" = 200 ] && pass "a client with a certificate of the CA: 200" \
        || fail "a client with a certificate: $out"
    out=$(curl -s -k -w '\n%{http_code}\n' "https://127.0.0.1:$port/v1/status"); rc=$?
    [ $rc -ne 0 ] && [ "$(code "$out")" = 000 ] \
        && pass "a client without a certificate is refused (curl exit $rc, no HTTP reply)" \
        || fail "a client without a certificate got: $out"
    expect_status "  plain TCP is not offered" 1 "$REGIOND" \
        --region-db="$REGION_DB" --listen="tcp:$port"
    pid_stop "$DB/tls.pid"
else
    fail "no ovs-pki or openssl for the TLS part"
fi

pid_stop "$DB/api.pid"
pid_stop "$DB/region.pid"
finish

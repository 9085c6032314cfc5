#!/usr/bin/env bash
# Netns lab, real packets: the instance metadata service.  Three VMs on
# host-a with the same private IP (10.0.1.10) in three VPCs
# (examples/overlapping-ips.json), vpcd serving 169.254.169.254:80 on the
# host's metadata service port.  Real curl in the VMs: IMDSv2 (PUT a token,
# GET with it) gets each VM its own instance id and addresses, a VM whose
# ENI requires tokens gets 401 without one, one VM's token is refused to
# another, a PUT with X-Forwarded-For is refused, and a VM whose ENI has
# the metadata endpoint disabled gets no answer at all, nor does a VM
# that spoofs another ENI's MAC.  Every answer is a
# real TCP connection through the stateless rewrite of metadata and
# svc_return: a wrong checksum would leave curl without one.
. "$(dirname "$0")/lab.sh"
. "$TOP/tests/vpcd-lib.sh"
lab_require
command -v curl >/dev/null || skip "no curl"
EX=$TOP/examples/overlapping-ips.json
MD=http://169.254.169.254

lab_host host-a 192.168.100.1
#      host   vm      eni          mac               ip            router
lab_vm host-a red   eni-red-a   02:00:00:01:01:0a 10.0.1.10/24 10.0.1.1
lab_vm host-a blue  eni-blue-a  02:00:00:02:01:0a 10.0.1.10/24 10.0.1.1
lab_vm host-a green eni-green-a 02:00:00:03:01:0a 10.0.1.10/24 10.0.1.1
lab_metadata_port host-a

# red: a given instance id, user data, IMDSv2 required; blue: the
# defaults (derived instance id, tokens optional); green: endpoint
# disabled.  subnet-red is in eu-west-1a.
jq '(.enis[] | select(.id == "eni-red-a")) += {
        "instance_id": "i-0123456789abcdef0",
        "user_data": "#cloud-config\nhostname: red\n",
        "metadata_options": {"http_tokens": "required"}}
    | (.enis[] | select(.id == "eni-green-a")) += {
        "metadata_options": {"http_endpoint": "disabled"}}
    | (.subnets[] | select(.id == "subnet-red")).availability_zone = "eu-west-1a"' \
    "$EX" > "$TEST_DIR/region.json"

vpcd_start host-a "$(lab_ns host-a)" --metadata=169.254.169.254:80
vpcd_http host-a PUT /v1/intents "$TEST_DIR/region.json" >/dev/null
[ "$VPCD_STATUS" = 200 ] && pass "PUT the region (HTTP 200)" \
    || fail "PUT the region: $VPCD_STATUS $VPCD_BODY"
vpcd_expect_wait "vpcd converges with the service port found" host-a \
    '.in_sync and .metadata.service_port > 0'

# md VM CURL-ARGS...: curl in VM; prints "CODE BODY" (CODE 000: no answer).
md() {
    local vm=$1 out
    shift
    out=$(lab_in "$vm" curl -s -m 3 -w '\n%{http_code}' "$@" 2>/dev/null)
    printf '%s %s\n' "${out##*$'\n'}" "${out%$'\n'*}"
}
# token VM [TTL]: an IMDSv2 token for VM.
token() {
    lab_in "$1" curl -s -m 3 -X PUT \
        -H "X-aws-ec2-metadata-token-ttl-seconds: ${2:-60}" "$MD/latest/api/token"
}

echo "IMDSv2 from red (tokens required)"
TR=$(token red)
[ ${#TR} -ge 32 ] && pass "red gets a token (${#TR} characters)" \
    || fail "red: no token: '$TR'"
md red -H "X-aws-ec2-metadata-token: $TR" "$MD/latest/meta-data/instance-id" \
    | expect "red: instance-id with the token" '^200 i-0123456789abcdef0$'
md red -H "X-aws-ec2-metadata-token: $TR" "$MD/latest/meta-data/local-ipv4" \
    | expect "red: local-ipv4 with the token" '^200 10\.0\.1\.10$'
md red -H "X-aws-ec2-metadata-token: $TR" "$MD/latest/meta-data/mac" \
    | expect "red: its own MAC" '^200 02:00:00:01:01:0a$'
md red -H "X-aws-ec2-metadata-token: $TR" "$MD/latest/meta-data/placement/availability-zone" \
    | expect "red: its subnet's availability zone" '^200 eu-west-1a$'
md red -H "X-aws-ec2-metadata-token: $TR" "$MD/latest/meta-data/network/interfaces/macs/02:00:00:01:01:0a/vpc-id" \
    | expect "red: macs/MAC/vpc-id" '^200 vpc-red$'
md red -H "X-aws-ec2-metadata-token: $TR" "$MD/latest/meta-data/" \
    | expect "red: the meta-data listing, directories with a slash" 'network/'
lab_in red curl -s -m 3 -H "X-aws-ec2-metadata-token: $TR" "$MD/latest/user-data" \
    | expect "red: its user data" '^hostname: red$'
md red "$MD/latest/meta-data/instance-id" \
    | expect "red without a token: 401 (http_tokens required)" '^401 '
md red -H "X-aws-ec2-metadata-token: bogus" "$MD/latest/meta-data/instance-id" \
    | expect "red with a bogus token: 401" '^401 '
md red -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" \
    -H "X-Forwarded-For: 10.9.9.9" "$MD/latest/api/token" \
    | expect "a token PUT with X-Forwarded-For: 403" '^403 '
md red -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 21601" "$MD/latest/api/token" \
    | expect "a token PUT with a TTL over 6 hours: 400" '^400 '

echo "blue: same private IP, another VPC, tokens optional"
BLUE_ID=i-$(printf '%s' eni-blue-a | sha1sum | cut -c1-17)
md blue "$MD/latest/meta-data/instance-id" \
    | expect "blue without a token: its own, derived instance id" "^200 $BLUE_ID\$"
md blue "$MD/latest/meta-data/local-ipv4" \
    | expect "blue: local-ipv4 (the same address as red's)" '^200 10\.0\.1\.10$'
md blue "$MD/latest/meta-data/mac" \
    | expect "blue: its own MAC" '^200 02:00:00:02:01:0a$'
md blue "$MD/latest/meta-data/network/interfaces/macs/02:00:00:02:01:0a/vpc-id" \
    | expect "blue: its own VPC" '^200 vpc-blue$'
md blue "$MD/latest/user-data" | expect "blue: no user data: 404" '^404 '
md blue -H "X-aws-ec2-metadata-token: $TR" "$MD/latest/meta-data/instance-id" \
    | expect "blue with red's token: 401" '^401 '
TB=$(token blue 30)
md blue -H "X-aws-ec2-metadata-token: $TB" "$MD/latest/meta-data/instance-id" \
    | expect "blue with its own token" "^200 $BLUE_ID\$"

echo "blue with an on-link route to 169.254.169.254 (ARP for it)"
lab_in blue ip route add 169.254.169.254/32 dev eth0
md blue "$MD/latest/meta-data/local-ipv4" \
    | expect "blue, on-link: served" '^200 10\.0\.1\.10$'
lab_in blue ip neigh show 169.254.169.254 \
    | expect "... after ARP for 169.254.169.254 answered with vpc-blue's router MAC" \
        'lladdr 02:76:70:00:00:c8'
lab_in blue ip route del 169.254.169.254/32 dev eth0

echo "green: metadata endpoint disabled"
md green "$MD/latest/meta-data/instance-id" \
    | expect "green gets no answer at all" '^000 '
lab_in green curl -s -m 3 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" \
    "$MD/latest/api/token" >/dev/null 2>&1 \
    && fail "green got a token" || pass "green gets no token either"

echo "A VM spoofing another ENI's MAC gets no metadata"
lab_in blue ip link set eth0 address 02:00:00:01:01:0a
md blue "$MD/latest/meta-data/instance-id" \
    | expect "blue with red's MAC: no answer (port security)" '^000 '
lab_in blue ip link set eth0 address 02:00:00:02:01:0a
md blue "$MD/latest/meta-data/instance-id" \
    | expect "blue with its own MAC again: served" "^200 $BLUE_ID\$"

echo "vpcctl trace labels the stages"
vpcctl_on host-a trace "$TEST_DIR/region.json" --host host-a \
    'from eni-red-a to 169.254.169.254 tcp dport 80' > "$TEST_DIR/trace.out" 2>&1
expect "a request: through the metadata stage" '^\[metadata\] 16\.' < "$TEST_DIR/trace.out"
expect "... forwarded there by eni-red-a's metadata flow" \
    'FORWARDED in stage metadata by eni-red-a metadata' < "$TEST_DIR/trace.out"
vpcctl_on host-a trace "$TEST_DIR/region.json" --host host-a \
    'from eni-green-a to 169.254.169.254 tcp dport 80' > "$TEST_DIR/trace2.out" 2>&1
expect "green's request: dropped in the metadata stage" 'DROPPED in stage metadata' < "$TEST_DIR/trace2.out"

echo "Connection limit: 8 per ENI"
# Eight connections of blue that vpcd keeps open (a request whose headers
# never end, one line a second: never idle for its 5 s timeout).
HOLDERS=()
for i in $(seq 8); do
    lab_bg blue bash -c 'exec 3<>/dev/tcp/169.254.169.254/80 || exit 1
        printf "GET / HTTP/1.1\r\nHost: x\r\n" >&3
        while sleep 1; do printf "X-Hold: 1\r\n" >&3 || exit; done'
    HOLDERS+=("$LAB_LAST_PID")
done
for i in $(seq 100); do
    [ "$(lab_in host-a ss -Htn state established '( sport = :80 )' | grep -c 169.254.128)" -ge 8 ] && break
    sleep 0.1
done
held=$(lab_in host-a ss -Htn state established '( sport = :80 )' | grep -c 169.254.128)
[ "$held" = 8 ] && pass "blue holds 8 connections" || fail "blue holds $held connections, not 8"
md blue "$MD/latest/meta-data/instance-id" \
    | expect "blue's ninth connection is closed unanswered" '^000 '
md red -H "X-aws-ec2-metadata-token: $TR" "$MD/latest/meta-data/instance-id" \
    | expect "red is still served" '^200 i-0123456789abcdef0$'
for p in "${HOLDERS[@]}"; do lab_stop "$p"; done
for i in $(seq 100); do
    [ "$(lab_in host-a ss -Htn state established '( sport = :80 )' | grep -c 169.254.128)" = 0 ] && break
    sleep 0.1
done
md blue "$MD/latest/meta-data/instance-id" \
    | expect "blue is served again once they close" "^200 $BLUE_ID\$"

echo "Counters"
metrics=$(vpcd_nsexec host-a curl -s -m 5 "http://127.0.0.1:${VPCD_PORT[host-a]}/metrics")
expect "tokens issued: 2" '^vpcd_imds_tokens_issued_total 2$' <<<"$metrics"
expect "refused for tokens: 3 (red twice, blue with red's)" \
    '^vpcd_imds_refused_total\{reason="token"\} 3$' <<<"$metrics"
expect "refused for X-Forwarded-For: 1" \
    '^vpcd_imds_refused_total\{reason="forwarded"\} 1$' <<<"$metrics"
expect "refused for too many connections: at least 1" \
    '^vpcd_imds_refused_total\{reason="connections"\} [1-9]' <<<"$metrics"
vpcd_status host-a .metadata.requests | expect "/v1/status counts the requests" '^[1-9][0-9]*$'

echo "A vpcd restart: tokens end, service goes on"
vpcd_kill host-a
vpcd_start host-a "$(lab_ns host-a)" --metadata=169.254.169.254:80
vpcd_expect_wait "vpcd is back, in sync from its persisted state" host-a \
    '.in_sync and .metadata.service_port > 0'
md red -H "X-aws-ec2-metadata-token: $TR" "$MD/latest/meta-data/instance-id" \
    | expect "red's token of the last vpcd: 401" '^401 '
TR2=$(token red)
md red -H "X-aws-ec2-metadata-token: $TR2" "$MD/latest/meta-data/instance-id" \
    | expect "red with a new token: served" '^200 i-0123456789abcdef0$'

if [ "$FAILS" -ne 0 ]; then
    lab_dump host-a
    tail -20 "${OVS_DIR[host-a]}/vpcd.log"
fi
finish

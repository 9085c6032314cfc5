#!/usr/bin/env bash
# Netns lab, real packets: flow logs (docs/flow-logs.md).  The web tier on
# host-a and host-b, each with its vpcd (in the host's netns, the IPFIX
# collector on its loopback), and a flow log with traffic type ALL on
# vpc-web.  client-a (host-a) opens a TCP connection to web-b (host-b) on
# 443, which sg-web accepts, and sends a SYN to 22, which sg-web rejects:
# host-b's log has web-b's ACCEPT lines of both directions of the
# connection and its REJECT line, host-a's client-a's ACCEPT lines (its
# egress is allowed), each with the right addresses, ports, protocol and
# counts; host-b's IPFIX also reaches a collector of its own
# (--flow-log-ipfix).  Without flow logs the collector set leaves the switch.
. "$(dirname "$0")/lab.sh"
. "$TOP/tests/vpcd-lib.sh"
EX=$TOP/examples/web-tier.json
lab_require

lab_host host-a 192.168.100.1
lab_host host-b 192.168.100.2
#      host   vm        eni           mac (from the intent) ip              router
lab_vm host-a web-a    eni-web-a    02:00:00:10:01:0a 10.10.1.10/24 10.10.1.1
lab_vm host-a client-a eni-client-a 02:00:00:10:01:14 10.10.1.20/24 10.10.1.1
lab_vm host-b web-b    eni-web-b    02:00:00:10:01:0b 10.10.1.11/24 10.10.1.1
lab_vm host-b app-b    eni-app-b    02:00:00:10:02:0a 10.10.2.10/24 10.10.2.1
lab_warm

jq '.flow_logs = [{"id": "fl-web", "resource": "vpc-web", "traffic_type": "ALL", "max_aggregation_interval": 60}]' \
    "$EX" > "$TEST_DIR/logged.json"

# host-b's vpcd also has ovs-vswitchd export the IPFIX to a collector of
# its own (--flow-log-ipfix): this one prints the header of each message.
EXT=$((20000 + $$ % 20000))
lab_bg host-b python3 -u -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    d = s.recv(65535)
    v, n, t, q, dom = struct.unpack("!HHIII", d[:16])
    print("version=%d length=%d domain=%d set=%d" % (v, n, dom, struct.unpack("!H", d[16:18])[0]))
' "$EXT" > "$TEST_DIR/ext-ipfix.txt"
declare -A EXTRA=([host-a]="" [host-b]="--flow-log-ipfix=127.0.0.1:$EXT")

echo "vpcd on both hosts, a flow log on vpc-web"
for h in host-a host-b; do
    # shellcheck disable=SC2086
    vpcd_start "$h" "$(lab_ns "$h")" --flow-log-dir="$TEST_DIR/fl-$h" \
        --flow-log-interval=1 ${EXTRA[$h]}
    vpcd_http "$h" PUT /v1/intents "$TEST_DIR/logged.json" >/dev/null
    [ "$VPCD_STATUS" = 200 ] && pass "$h: PUT the web tier with fl-web" \
        || fail "$h: PUT: $VPCD_STATUS $VPCD_BODY"
    vpcd_expect_wait "$h: in sync, the collector set configured" "$h" \
        '.in_sync and .flow_logs.configured'
    vsctl_on "$h" --bare --columns=id list Flow_Sample_Collector_Set \
        | expect "$h: OVSDB has vpcd's collector set" '^30320$'
done

echo "Traffic: one connection accepted, one SYN rejected"
lab_listen web-b 443 "hello from web-b"
out=$(lab_connect client-a 10.10.1.11 443 "hi")
expect "client-a -> web-b:443 connects (sg-web allows 443)" 'hello from web-b' <<<"$out"
lab_in client-a timeout 2 nc -w 1 10.10.1.11 22 </dev/null >/dev/null 2>&1
pass "client-a -> web-b:22 sent (sg-web has no rule for it)"

B=$TEST_DIR/fl-host-b/fl-web.log
A=$TEST_DIR/fl-host-a/fl-web.log
N='[1-9][0-9]*'
T='[0-9]+'
accept_in="^2 - eni-web-b 10\.10\.1\.20 10\.10\.1\.11 $T 443 6 $N $N $T $T ACCEPT OK$"
accept_out="^2 - eni-web-b 10\.10\.1\.11 10\.10\.1\.20 443 $T 6 $N $N $T $T ACCEPT OK$"
reject_in="^2 - eni-web-b 10\.10\.1\.20 10\.10\.1\.11 $T 22 6 $N $N $T $T REJECT OK$"
client_out="^2 - eni-client-a 10\.10\.1\.20 10\.10\.1\.11 $T 443 6 $N $N $T $T ACCEPT OK$"
client_22="^2 - eni-client-a 10\.10\.1\.20 10\.10\.1\.11 $T 22 6 $N $N $T $T ACCEPT OK$"
# Records reach the files after ovs-vswitchd's IPFIX cache timeout and the
# aggregation interval (1 s each here): wait up to 15 s for each.
for check in "$B|$accept_in|web-b's log: ACCEPT client-a -> web-b:443" \
             "$B|$accept_out|web-b's log: ACCEPT of the replies web-b:443 -> client-a" \
             "$B|$reject_in|web-b's log: REJECT client-a -> web-b:22" \
             "$A|$client_out|client-a's log: ACCEPT client-a -> web-b:443 (egress)" \
             "$A|$client_22|client-a's log: ACCEPT client-a -> web-b:22 (its egress allows it)"; do
    IFS='|' read -r file pat what <<<"$check"
    if lab_wait_file "$file" "$pat" 150; then pass "$what"; else
        fail "$what: no line matching $pat in $file:"
        sed 's/^/    /' "$file" 2>/dev/null
    fi
done
head -1 "$B" | expect "the file starts with AWS's header line" \
    '^version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status$'

# The fields of the accepted connection agree with each other: the same
# client port both ways, at least SYN, ACK and data/FIN from the client,
# start <= end, and the REJECT line counts only the rejected SYNs.
in_line=$(grep -E "$accept_in" "$B" | head -1)
out_line=$(grep -E "$accept_out" "$B" | head -1)
rej_line=$(grep -E "$reject_in" "$B" | head -1)
read -r _ _ _ _ _ csport _ _ pk by st en _ <<<"$in_line"
read -r _ _ _ _ _ _ rdport _ _ _ _ _ _ <<<"$out_line"
[ -n "$csport" ] && [ "$csport" = "$rdport" ] \
    && pass "the client's port ($csport) is the source of one and the destination of the other" \
    || fail "client port $csport vs reply destination port $rdport"
[ "${pk:-0}" -ge 3 ] && [ "${by:-0}" -ge $((pk * 52)) ] && [ "$st" -le "$en" ] \
    && pass "ACCEPT line: $pk packets, $by bytes, start <= end" \
    || fail "ACCEPT line: packets=$pk bytes=$by start=$st end=$en"
read -r _ _ _ _ _ _ _ _ rpk rby _ _ _ <<<"$rej_line"
[ "${rpk:-0}" -ge 1 ] && [ "${rpk:-0}" -le 4 ] && [ "$rby" = $((rpk * 60)) ] \
    && pass "REJECT line: $rpk SYN(s) of 60 bytes" \
    || fail "REJECT line: packets=$rpk bytes=$rby"
grep -cE "eni-web-b [0-9.]+ [0-9.]+ [0-9]+ 22 6 .* ACCEPT" "$B" \
    | expect "web-b's log has no ACCEPT for port 22" '^0$'
grep -c "eni-web-a\|eni-app-b" "$A" "$B" | expect_not "no record of ENIs without traffic" ':[1-9]'

grep -Ec '^version=10 length=[0-9]+ domain=30320 set=2$' "$TEST_DIR/ext-ipfix.txt" \
    | expect "the external collector (--flow-log-ipfix) got IPFIX templates" '^[1-9]'
grep -Ec '^version=10 length=[0-9]+ domain=30320 set=[0-9]{3,}$' "$TEST_DIR/ext-ipfix.txt" \
    | expect "... and data records" '^[1-9]'

vpcd_http host-b GET /metrics >/dev/null
expect "host-b /metrics counts REJECT records" \
    '^vpcd_flow_log_records_total\{action="REJECT"\} [1-9]' <<<"$VPCD_BODY"
expect "host-b /metrics counts ACCEPT records" \
    '^vpcd_flow_log_records_total\{action="ACCEPT"\} [1-9]' <<<"$VPCD_BODY"
expect "host-b /metrics: no record dropped for want of a template" \
    '^vpcd_flow_log_dropped_total\{reason="no_template"\} 0$' <<<"$VPCD_BODY"

echo "No flow log: the collector set goes"
vpcd_http host-b PUT /v1/intents "$EX" >/dev/null
vpcd_expect_wait "host-b: in sync, the collector set removed" host-b \
    '.in_sync and (.flow_logs.configured | not)'
vsctl_on host-b --bare --columns=id list Flow_Sample_Collector_Set | wc -l \
    | expect "host-b: OVSDB has no collector set" '^0$'
ofctl_on host-b dump-flows br-int | expect_not "host-b: no flow samples" 'sample\('

if [ "$FAILS" -ne 0 ]; then
    lab_dump host-b
    for h in host-a host-b; do
        echo "--- $h vpcd.log"; tail -20 "${OVS_DIR[$h]}/vpcd.log"
    done
fi
finish

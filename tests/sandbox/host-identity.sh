#!/usr/bin/env bash
# Sandbox: a switch knows which host it is (Open_vSwitch
# external_ids:vpc-host).  The first vpcctl apply or vpcd run on it claims
# it for its --host; afterwards a different --host is refused with an error
# that names both, changing no flow, until --force-host (docs/vpcd.md,
# "Which host a switch is").
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vpcd-lib.sh"
EX=$TOP/examples/web-tier.json

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web 1 eni-web-a
flows() { ofctl_on host-a dump-flows br-int --no-stats | grep cookie= | sort; }
vpc_host() { vsctl_on host-a get Open_vSwitch . external_ids:vpc-host 2>&1; }

vpc_host | expect "a new switch has no vpc-host" 'no key "vpc-host"'
vpcctl_on host-a apply "$EX" --host host-a --dry-run \
    | expect "apply --dry-run on an unclaimed switch" 'would apply'
vpc_host | expect "... claims nothing" 'no key "vpc-host"'
vpcctl_on host-a apply "$EX" --host host-a \
    | expect "the first apply installs flows" ' [1-9][0-9]* added'
vpc_host | expect "... and claims the switch for host-a" '^"?host-a"?$'
vpcctl_on host-a apply "$EX" --host host-a \
    | expect "apply again with the same --host" ' 0 added, 0 modified, 0 deleted'
before=$(flows)

for dry in "" --dry-run; do
    out=$(vpcctl_on host-a apply "$EX" --host host-b $dry 2>&1); rc=$?
    [ "$rc" = 1 ] && pass "apply ${dry:+$dry }--host host-b on host-a's switch: exit 1" \
        || fail "apply ${dry:+$dry }--host host-b on host-a's switch: exit $rc"
    expect "... the error names both hosts and the way out" \
        "this switch is host-a's \(Open_vSwitch external_ids:vpc-host=host-a\), not host-b's: refusing to change its flows.*--force-host" <<<"$out"
done
[ "$(flows)" = "$before" ] && pass "... and no flow changed" \
    || fail "flows changed after a refused apply"
vpc_host | expect "... nor the switch's host" '^"?host-a"?$'

echo "vpcd with the wrong --host"
# A vpcd named host-b on host-a's switch (vpcd-lib.sh names a vpcd after
# its sandbox).
OVS_DIR[host-b]=${OVS_DIR[host-a]}
vpcd_start host-b "" --intents="$EX"
vpcd_expect_wait "vpcd --host=host-b: not in sync, the error says why" host-b \
    '(.in_sync | not) and (.last_error | test("this switch is host-a.s .*not host-b.s"))'
[ "$(flows)" = "$before" ] && pass "... and no flow changed" \
    || fail "vpcd --host=host-b changed the flows of host-a's switch"
vpc_host | expect "... nor the switch's host" '^"?host-a"?$'
vpcd_kill host-b
unset 'OVS_DIR[host-b]'
vpcd_start host-a "" --intents="$EX"
vpcd_expect_wait "vpcd --host=host-a on it: in sync" host-a '.in_sync'

echo "Unplugged and misplaced ENIs"
D=${OVS_DIR[host-a]}
# warnings: /v1/status's warnings as "ENI: PROBLEM" lines.
warnings() { vpcd_status host-a '.warnings[] | "\(.eni): \(.problem)"'; }
warnings | expect "status warns: eni-client-a is placed on host-a but not plugged" \
    '^eni-client-a: placed on host-a, but not plugged: no Interface has external_ids:vpc-eni-id=eni-client-a'
[ "$(warnings | wc -l)" = 1 ] && pass "... and of nothing else" || fail "warnings: $(warnings)"
grep -c 'eni-client-a: placed on host-a, but not plugged' "$D/vpcd.log" \
    | expect "... the log says it once" '^1$'
out=$(vpcctl_on host-a compile "$EX" --host host-a 2>&1 >/dev/null)
expect "vpcctl compile --host host-a warns about it too" \
    '^vpcctl: warning: eni-client-a: placed on host-a, but not plugged' <<<"$out"
sandbox_vm host-a vm-web-b 7 eni-web-b
vpcd_expect_wait "a port for host-b's eni-web-b: status warns that it is placed on host-b" host-a \
    'any(.warnings[]; .eni == "eni-web-b" and (.problem | test("plugged at ofport 7, but placed on host-b")))'
vpcd_http host-a GET /metrics >/dev/null
expect "... /metrics: vpcd_binding_warnings 2" '^vpcd_binding_warnings 2$' <<<"$VPCD_BODY"
sandbox_vm host-a vm-client 2 eni-client-a
vsctl_on host-a del-port br-int vm-web-b
vpcd_expect_wait "both fixed: no warnings" host-a '(.warnings | length) == 0 and .in_sync'
grep -c 'eni-client-a: fixed' "$D/vpcd.log" | expect "... the log says eni-client-a was fixed" '^1$'
grep -c 'eni-web-b: plugged at ofport 7, but placed on host-b' "$D/vpcd.log" \
    | expect "... and logged eni-web-b's problem once, over several audits" '^1$'
out=$(vpcctl_on host-a compile "$EX" --host host-a 2>&1 >/dev/null)
expect_not "vpcctl compile: no warning either" 'warning' <<<"$out"
vsctl_on host-a del-port br-int vm-client
vpcd_kill host-a

echo "--force-host: the machine is now host-b"
vpcctl_on host-a apply "$EX" --host host-b --force-host \
    | expect "apply --force-host installs host-b's flows" ' [1-9][0-9]* deleted'
vpc_host | expect "... and claims the switch for host-b" '^"?host-b"?$'
vpcctl_on host-a apply "$EX" --host host-a 2>&1 \
    | expect "now host-a is refused" "this switch is host-b's"
finish

#!/usr/bin/env bash
# Sandbox: 'make demo' (scripts/demo.sh) for the edge of the default region,
# which it runs in action mode unless told otherwise, and its exit status:
# non-zero for a host the region does not have and for a step that fails
# (here vpcd cannot compile an edge without its uplink next hop).  The
# host-a demo is the README's; 'make demo' runs it.
. "$(dirname "$0")/../lib.sh"
DEMO=$TOP/scripts/demo.sh

out=$(env -u VPC_MAPPING HOST=edge-1 timeout 120 bash "$DEMO" 2>&1); rc=$?
[ "$rc" = 0 ] && pass "HOST=edge-1 make demo: exit 0" \
    || { fail "HOST=edge-1 make demo: exit $rc"; tail -20 <<<"$out" | sed 's/^/       | /'; }
expect "... in action mode by default" 'follows the region database \(mapping: action\)' <<<"$out"
expect "... vpcd for the edge converges" 'in sync after [0-9]+ ms: [1-9][0-9]* flows' <<<"$out"
expect "... and shows the internet gateway's flows" '#   from igw-web eni-web-a' <<<"$out"

out=$(HOST=host-z timeout 60 bash "$DEMO" 2>&1); rc=$?
[ "$rc" = 1 ] && pass "HOST=host-z make demo: exit 1" || fail "HOST=host-z make demo: exit $rc"
expect "... saying why" 'host-z is neither a host nor an edge of' <<<"$out"

jq 'del(.edges[0].uplink_gateway_mac)' "$TOP/examples/region.json" \
    > "$TEST_DIR/no-uplink-mac.json"
out=$(REGION=$TEST_DIR/no-uplink-mac.json HOST=edge-1 timeout 120 bash "$DEMO" 2>&1); rc=$?
[ "$rc" = 1 ] && pass "a demo whose vpcd cannot converge: exit 1" \
    || { fail "a demo whose vpcd cannot converge: exit $rc"; tail -5 <<<"$out" | sed 's/^/       | /'; }
expect "... saying why" 'demo: vpcd did not converge' <<<"$out"
expect "... after vpcd's own error" 'has no uplink_gateway_mac' <<<"$out"
finish

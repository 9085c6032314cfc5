#!/usr/bin/env bash
# Sandbox: vpcd for a host that holds no ENI (a new host, say) installs the
# base pipeline and an empty cache, and stays up.  Regression test: in
# action mode vpcd crashed copying the (empty) list of loaded entries.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../vpcd-lib.sh"
python3 - "$TOP/examples/web-tier.json" "$TEST_DIR/region.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["hosts"].append({"id": "host-c", "underlay_ip": "192.168.100.3"})
json.dump(d, open(sys.argv[2], "w"))
PY
ovs_start host-c
sandbox_host host-c 192.168.100.3
vpcd_start host-c "" --intents "$TEST_DIR/region.json"
vpcd_wait host-c '.in_sync == true' \
    && pass "vpcd for a host without ENIs gets in sync" \
    || fail "vpcd for a host without ENIs gets in sync"
kill -0 "$(cat "${OVS_DIR[host-c]}/vpcd.pid")" 2>/dev/null \
    && pass "... and is still running" || fail "vpcd died"
[ "$(of_count host-c)" -gt 0 ] && pass "the base pipeline is installed" \
    || fail "no flows installed"
finish

#!/usr/bin/env bash
# Sandbox: the reachability trace across hosts (cli/trace.c).  Two hosts of
# the web tier, each a real ovs-vswitchd (dummy datapath) with the flows
# vpcctl apply installed: a packet from host-a's ENI is dropped on host-b
# by subnet-app's network ACL, and the trace names host-b, the stage and
# the rule, live and --offline, with identical JSON (checked against
# schema/trace.schema.json).  Also: delivery, a reply with
# --ct-state=est,rpl, a start from the tunnel, a spoofed source, an edge
# (offline), a switch that runs other flows, and the grammar's errors.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
EX=$TOP/examples/web-tier.json
PY=
for py in python3 /usr/bin/python3; do
    "$py" -c 'import jsonschema' 2>/dev/null && { PY=$py; break; }
done
[ -n "$PY" ] \
    || skip "no python3 jsonschema (scripts/deps.sh installs python3-jsonschema)"
# Throwaway switches of --offline go here, so that the test sees whether
# they are cleaned up.
export TMPDIR=$TEST_DIR/tmp
mkdir -p "$TMPDIR"

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web 1 eni-web-a
sandbox_vm host-a vm-client 2 eni-client-a
ovs_start host-b
sandbox_host host-b 192.168.100.2
sandbox_vm host-b vm-web-b 1 eni-web-b
sandbox_vm host-b vm-app 2 eni-app-b
vpcctl_on host-a apply "$EX" --host host-a >/dev/null
vpcctl_on host-b apply "$EX" --host host-b >/dev/null

A=${OVS_DIR[host-a]} B=${OVS_DIR[host-b]}
# live FROM SPEC [OPTION...]: traced from host FROM, every host reachable.
live() {
    vpcctl_on "$1" trace "$EX" --host "$1" --rundir=host-a="$A" \
        --rundir=host-b="$B" "$2" "${@:3}"
}
# offline FROM SPEC [OPTION...]: the same ports as the sandbox's.
offline() {
    "$VPCCTL" trace "$EX" --host "$1" --offline --mapping="$VPC_MAPPING" \
        --tunnel-port=1000 "$2" "${@:3}"
}
# jq_ok WHAT FILE FILTER: FILE is JSON (not empty) and FILTER holds.
jq_ok() {
    [ -s "$2" ] && jq -e "$3" "$2" >/dev/null && pass "$1" || fail "$1"
}
# same WHAT FILE1 FILE2: both non-empty and byte-identical.
same() {
    if [ -s "$2" ] && cmp -s "$2" "$3"; then
        pass "$1"
    else
        fail "$1"
        diff "$2" "$3" | head -20
    fi
}
schema_ok() {
    "$PY" -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
        "$TOP/schema/trace.schema.json" "$2" 2>&1 \
        && pass "$1" || fail "$1"
}

# The packet dropped on the destination host by its network ACL.
SSH='from eni-web-a to 10.10.2.10 tcp dport 22'
live host-a "$SSH" | expect "live: ssh to app is followed to host-b" \
    '== Hop 2: host host-b =='
live host-a "$SSH" | expect "live: dropped on host-b by acl-app rule 90, deny" \
    'Final verdict: DROPPED on host-b in stage nacl_in by network ACL acl-app ingress rule 90 deny'
live host-a "$SSH" | expect "live: host-a's hop is labelled" \
    'Verdict: ENCAPSULATED to 192.168.100.2, VNI 1010, in stage mapping by eni-app-b'
live host-a "$SSH" | expect "live: host-b receives it from host-a's underlay, TTL decremented" \
    'Flow: in_port=1000,tun_id=1010,tun_src=192.168.100.1,tun_dst=192.168.100.2,tcp,.*nw_ttl=63'
live host-a "$SSH" --format=json > "$TEST_DIR/live.json"
offline host-a "$SSH" --format=json > "$TEST_DIR/offline.json"
jq_ok "live JSON: the verdict names host-b, nacl_in and the rule" \
    "$TEST_DIR/live.json" '.verdict | .kind == "DROPPED" and .host == "host-b"
        and .stage == "nacl_in" and .intent == "acl-app ingress rule 90"
        and .rule == "network ACL acl-app ingress rule 90 deny"'
jq_ok "live JSON: the path is host-a, host-b, both switches in sync" \
    "$TEST_DIR/live.json" \
    '[.hops[].host] == ["host-a", "host-b"] and all(.hops[]; .flows_differ == 0)'
schema_ok "live JSON matches schema/trace.schema.json" "$TEST_DIR/live.json"
same "offline JSON is identical to live JSON" "$TEST_DIR/live.json" \
    "$TEST_DIR/offline.json"
offline host-a "$SSH" | expect "offline: the same final verdict" \
    'Final verdict: DROPPED on host-b in stage nacl_in by network ACL acl-app ingress rule 90 deny'
expect_not "offline: throwaway switches removed" . ls -A "$TMPDIR"
offline host-a "$SSH" | expect "offline (again): they were there" \
    'Final verdict: DROPPED on host-b'
expect_not "offline (again): removed again" . ls -A "$TMPDIR"

# Allowed traffic is delivered to the ENI's port on the other host.
live host-a 'from eni-web-a to 10.10.2.10 tcp dport 8080' \
    | expect "live: web -> app:8080 delivered on host-b" \
        'Final verdict: DELIVERED to eni-app-b \(port 2\) on host-b in stage deliver'
offline host-a 'from eni-web-a to 10.10.2.10 tcp dport 8080' \
    | expect "offline: web -> app:8080 delivered on host-b" \
        'Final verdict: DELIVERED to eni-app-b \(port 2\) on host-b in stage deliver'

# A reply: app's answer from 8080 to web's port 40000.  As a new
# connection sg-web lets it not in; as a reply of one it passes.
REPLY='from eni-app-b to 10.10.1.10 tcp sport 8080 dport 40000'
live host-b "$REPLY" | expect "reply as new: dropped by sg_in on host-a" \
    'Final verdict: DROPPED on host-a in stage sg_in'
live host-b "$REPLY" --ct-state=est,rpl \
    | expect "reply with est,rpl: delivered to eni-web-a on host-a" \
        'Final verdict: DELIVERED to eni-web-a \(port 1\) on host-a in stage deliver'
live host-b "$REPLY" --ct-state=est,rpl --format=json > "$TEST_DIR/reply.json"
offline host-b "$REPLY" --ct-state=est,rpl --format=json > "$TEST_DIR/reply-off.json"
jq_ok "reply JSON: ct_state trk,est,rpl, delivered to eni-web-a" \
    "$TEST_DIR/reply.json" '.ct_state == "trk,est,rpl"
        and .verdict.kind == "DELIVERED" and .verdict.eni == "eni-web-a"'
schema_ok "reply JSON matches the schema" "$TEST_DIR/reply.json"
jq_ok "reply JSON: each hop says the conntrack state it was traced with" \
    "$TEST_DIR/reply.json" '(.hops | length) == 2 and all(.hops[]; .ct_state == "trk,est,rpl")'
live host-b "$REPLY" --ct-state=est,rpl \
    | expect "reply text: the hop says its conntrack state, and where it comes from" \
        '^Conntrack: trk,est,rpl at every pass \(--ct-state: taken as this host.s conntrack state'
same "reply: offline JSON is identical to live JSON" "$TEST_DIR/reply.json" \
    "$TEST_DIR/reply-off.json"

# --reply: the request, then its reply from where it ended, est,rpl.
APP='from eni-web-a to 10.10.2.10 tcp dport 8080'
live host-a "$APP" --reply \
    | expect "--reply: the reply starts at the ENI the request reached, ports swapped" \
        '^== Reply: from eni-app-b src 10\.10\.2\.10 to 10\.10\.1\.10 tcp sport 8080 dport 40000 \(conntrack trk,est,rpl'
live host-a "$APP" --reply | grep -c '^Final verdict: DELIVERED' \
    | expect "... both delivered: the request to eni-app-b, the reply to eni-web-a" '^2$'
live host-a "$APP" --reply --format=json > "$TEST_DIR/rr.json"
offline host-a "$APP" --reply --format=json > "$TEST_DIR/rr-off.json"
jq_ok "--reply JSON: the reply's hops and verdict, est,rpl at every hop" "$TEST_DIR/rr.json" \
    '.verdict.eni == "eni-app-b" and .reply.verdict.kind == "DELIVERED"
        and .reply.verdict.eni == "eni-web-a" and .reply.ct_state == "trk,est,rpl"
        and (.reply.hops | length) == 2 and all(.reply.hops[]; .ct_state == "trk,est,rpl")
        and all(.hops[]; .ct_state == "trk,new")'
schema_ok "--reply JSON matches the schema" "$TEST_DIR/rr.json"
same "--reply: offline JSON is identical to live JSON" "$TEST_DIR/rr.json" "$TEST_DIR/rr-off.json"
live host-a "$SSH" --reply \
    | expect "--reply of a dropped request: no reply, says why" \
        '^No reply traced: the request ends DROPPED'
live host-a "$SSH" --reply --format=json > "$TEST_DIR/rr-drop.json"
jq_ok "... JSON: reply null" "$TEST_DIR/rr-drop.json" 'has("reply") and .reply == null'

# Start points: the tunnel, and a source address other than the ENI's.
live host-b 'from tunnel 192.168.100.1 vni 1010 src 10.10.1.10 to 10.10.2.10 tcp dport 8080' \
    | expect "from the tunnel: delivered to eni-app-b" \
        'Final verdict: DELIVERED to eni-app-b \(port 2\) on host-b'
live host-b 'from tunnel 192.168.100.9 vni 1010 src 10.10.1.10 to 10.10.2.10 tcp dport 8080' \
    | expect "from the tunnel, wrong outer source: dropped by rx_verify" \
        'Final verdict: DROPPED on host-b in stage rx_verify'
live host-a 'from eni-web-a src 10.10.1.99 to 10.10.2.10 tcp dport 8080' \
    | expect "a spoofed source: dropped by port_sec on host-a" \
        'Final verdict: DROPPED on host-a in stage port_sec'

# An edge, live and offline: examples/edge.json's host-a and edge-1 (ports
# as sandbox_edge makes them: uplink 2, Direct Connect 3).
EE=$TOP/examples/edge.json
ovs_start e-host-a
sandbox_host e-host-a 192.168.100.1
sandbox_vm e-host-a vm-web 1 eni-web
sandbox_vm e-host-a vm-noeip 2 eni-noeip
sandbox_edge e-edge 192.168.100.254
vpcctl_on e-host-a apply "$EE" --host host-a >/dev/null
vpcctl_on e-edge apply "$EE" --host edge-1 >/dev/null
elive() {
    vpcctl_on "$1" trace "$EE" --host "$2" --rundir=host-a="${OVS_DIR[e-host-a]}" \
        --rundir=edge-1="${OVS_DIR[e-edge]}" "$3" "${@:4}"
}
eoffline() {
    "$VPCCTL" trace "$EE" --host "$1" --offline --mapping="$VPC_MAPPING" \
        --tunnel-port=1000 --uplink-port=2 --dx-port=3 "$2" "${@:3}"
}
OUT='from eni-web to 8.8.8.8 tcp dport 443'
elive e-host-a host-a "$OUT" \
    | expect "edge, live: out the uplink with the elastic IP" \
        'Final verdict: OUT the uplink port \(2\), nw_src 10.30.1.10 -> 203.0.113.10 on edge-1 in stage edge_out by igw-shop eni-web'
eoffline host-a "$OUT" \
    | expect "edge, offline: the same" \
        'Final verdict: OUT the uplink port \(2\), nw_src 10.30.1.10 -> 203.0.113.10 on edge-1'
IN='from uplink src 8.8.8.8 to 203.0.113.10 tcp dport 80'
elive e-edge edge-1 "$IN" \
    | expect "from the uplink: the elastic IP to eni-web, delivered on host-a" \
        'Final verdict: DELIVERED to eni-web \(port 1\) on host-a in stage deliver'
elive e-edge edge-1 "$IN" \
    | expect "... host-a receives it from the edge with the private address" \
        'Flow: in_port=1000,tun_id=3030,tun_src=192.168.100.254,tun_dst=192.168.100.1,tcp,.*nw_src=8.8.8.8,nw_dst=10.30.1.10'
elive e-edge edge-1 'from uplink src 8.8.8.8 to 203.0.113.10 tcp dport 22' \
    | expect "from the uplink, ssh: dropped by host-a's security group" \
        'Final verdict: DROPPED on host-a in stage sg_in'
elive e-edge edge-1 "$IN" --format=json > "$TEST_DIR/edge-live.json"
eoffline edge-1 "$IN" --format=json > "$TEST_DIR/edge-off.json"
schema_ok "edge: JSON matches the schema" "$TEST_DIR/edge-live.json"
same "edge: offline JSON is identical to live JSON" "$TEST_DIR/edge-live.json" \
    "$TEST_DIR/edge-off.json"
elive e-host-a host-a "$OUT" --format=json > "$TEST_DIR/out-live.json"
eoffline host-a "$OUT" --format=json > "$TEST_DIR/out-off.json"
jq_ok "edge: JSON says out the uplink, translated" "$TEST_DIR/out-live.json" \
    '.verdict | .kind == "OUT" and .edge_port == "uplink" and .port == 2
        and .translated == "nw_src 10.30.1.10 -> 203.0.113.10"'
same "edge out: offline JSON is identical to live JSON" \
    "$TEST_DIR/out-live.json" "$TEST_DIR/out-off.json"
# Direct Connect: a frame with the virtual interface's S-tag (802.1ad)
# and C-tag (802.1Q) on the edge's Direct Connect port (3).
DX='from dx dxvif-shop src 172.16.0.5 to 10.30.1.10 tcp dport 80'
elive e-edge edge-1 "$DX" \
    | expect "from Direct Connect: both tags popped, delivered to eni-web on host-a" \
        'Final verdict: DELIVERED to eni-web \(port 1\) on host-a in stage deliver'
elive e-edge edge-1 "$DX" \
    | expect "... the switch parsed both tags of the frame" \
        '^Flow: tcp,in_port=3,dl_vlan=100,dl_vlan_pcp=0,dl_vlan1=200,'
elive e-edge edge-1 "$DX" \
    | expect "... edge_in took the S-tag of dxvif-shop" \
        '\[edge_in\] 160\. in_port=3,dl_vlan=100, .*<- dxvif-shop'
elive e-edge edge-1 "$DX" --format=json > "$TEST_DIR/dx-live.json"
eoffline edge-1 "$DX" --format=json > "$TEST_DIR/dx-off.json"
jq_ok "Direct Connect JSON: from the tags to eni-web" "$TEST_DIR/dx-live.json" \
    '(.hops[0].flow | startswith("in_port=3,dl_vlan=100,dl_vlan1=200,dl_src=02:cc:00:00:00:01,"))
        and .hops[0].result.kind == "ENCAPSULATED" and .verdict.kind == "DELIVERED"
        and .verdict.eni == "eni-web"'
schema_ok "Direct Connect JSON matches the schema" "$TEST_DIR/dx-live.json"
same "Direct Connect: offline JSON is identical to live JSON" \
    "$TEST_DIR/dx-live.json" "$TEST_DIR/dx-off.json"
elive e-edge edge-1 'from dx s_tag 100 c_tag 201 src 172.16.0.5 to 10.30.1.10 tcp dport 80' \
    | expect "Direct Connect, a C-tag of no virtual interface: dropped in edge_dx_in" \
        'Final verdict: DROPPED on edge-1 in stage edge_dx_in'
elive e-edge edge-1 'from dx dxvif-shop src 10.1.0.5 to 10.30.1.10 tcp dport 80' \
    | expect "Direct Connect, a source outside its on-premises prefixes: dropped" \
        'Final verdict: DROPPED on edge-1 in stage edge_dx_in'
elive e-edge edge-1 'from dx dxvif-nope src 172.16.0.5 to 10.30.1.10' 2>&1 \
    | expect "Direct Connect: an unknown virtual interface is named" \
        '"dxvif-nope": no Direct Connect virtual interface of the region has this id'
elive e-edge edge-1 'from dx s_tag 5000 c_tag 200 src 172.16.0.5 to 10.30.1.10' 2>&1 \
    | expect "Direct Connect: a tag out of range" 's_tag "5000": not a VLAN id'
vpcctl_on e-host-a trace "$EE" --host host-a "$DX" 2>&1 \
    | expect "from Direct Connect on a host: refused" 'host-a is not an edge with a Direct Connect port'

# NAT: the hop that translates says so, by its flows (the elastic IP) or
# by conntrack in the datapath (the NAT gateway's source NAT, which
# ofproto/trace leaves out of its final flow).
elive e-edge edge-1 "$IN" \
    | expect "from the uplink: the edge's hop says what it translated" \
        '^Translated: nw_dst 203\.0\.113\.10 -> 10\.30\.1\.10$'
jq_ok "... and its JSON hop too" "$TEST_DIR/edge-live.json" \
    '.hops[0].result.translated == "nw_dst 203.0.113.10 -> 10.30.1.10"
        and (.hops[1].result | has("translated") | not)'
jq_ok "out the uplink: the edge's hop says the elastic IP" "$TEST_DIR/out-live.json" \
    '.hops[1].result.translated == "nw_src 10.30.1.10 -> 203.0.113.10"'
NAT='from eni-app to 8.8.8.8 tcp dport 443'
eoffline host-b "$NAT" \
    | expect "through the NAT gateway: translated by conntrack, on the edge's hop" \
        '^Translated: nw_src 10\.30\.2\.10 -> 203\.0\.113\.20 \(conntrack\)$'
eoffline host-b "$NAT" \
    | expect "... and in the final verdict (not 'untranslated')" \
        'Final verdict: OUT the uplink port \(2\), nw_src 10\.30\.2\.10 -> 203\.0\.113\.20 \(conntrack\) on edge-1 in stage edge_out by nat-shop'
eoffline host-b "$NAT" --format=json > "$TEST_DIR/nat.json"
jq_ok "NAT gateway JSON: translated in the edge's hop and the verdict" "$TEST_DIR/nat.json" \
    '.verdict.translated == "nw_src 10.30.2.10 -> 203.0.113.20 (conntrack)"
        and .hops[1].result.translated == .verdict.translated
        and (.hops[0].result | has("translated") | not)'
schema_ok "NAT gateway JSON matches the schema" "$TEST_DIR/nat.json"
# The reply to it: conntrack gives back the original destination, which
# ofproto/trace does not simulate; the trace says so instead of a drop.
NATREPLY='from uplink src 8.8.8.8 to 203.0.113.20 tcp sport 443 dport 40000'
eoffline edge-1 "$NATREPLY" --ct-state=est,rpl \
    | expect "a reply to the NAT gateway: the un-NAT is said, not simulated" \
        "^conntrack reverses the connection's translation here .*203\.0\.113\.20 becomes the connection's original address, which ofproto/trace does not simulate"
eoffline edge-1 "$NATREPLY" --ct-state=est,rpl \
    | expect "... and the verdict is UNKNOWN, not a drop" 'Final verdict: UNKNOWN on edge-1'
eoffline edge-1 "$NATREPLY" --ct-state=est,rpl --format=json > "$TEST_DIR/natreply.json"
schema_ok "... JSON matches the schema" "$TEST_DIR/natreply.json"
jq_ok "... JSON: UNKNOWN, the note on the edge's hop" "$TEST_DIR/natreply.json" \
    '.verdict.kind == "UNKNOWN" and (.hops[0].result.note | test("does not simulate"))'
eoffline edge-1 "$NATREPLY" \
    | expect "unsolicited (new) to the NAT gateway: dropped in edge_nat_in" \
        'Final verdict: DROPPED on edge-1 in stage edge_nat_in'
# With --reply the trace knows the request's translation: the note names
# the exact trace of the rest, which reaches eni-app.
eoffline host-b "$NAT" --reply \
    | expect "--reply through the NAT gateway: the note gives the rest of the reply's path" \
        "trace the rest: 'from tunnel 192\.168\.100\.254 vni 3030 src 8\.8\.8\.8 to 10\.30\.2\.10 tcp sport 443 dport 40000' --ct-state=est,rpl on the ENI's host"
eoffline host-b 'from tunnel 192.168.100.254 vni 3030 src 8.8.8.8 to 10.30.2.10 tcp sport 443 dport 40000' --ct-state=est,rpl \
    | expect "... which delivers it to eni-app" 'Final verdict: DELIVERED to eni-app \(port [0-9]+\) on host-b'
elive e-host-a host-a "$OUT" --reply \
    | expect "--reply out the internet gateway: the reply to the elastic IP is delivered to eni-web" \
        '^== Reply: from uplink src 8\.8\.8\.8 to 203\.0\.113\.10 tcp sport 443 dport 40000'
elive e-host-a host-a "$OUT" --reply --format=json > "$TEST_DIR/out-reply.json"
jq_ok "... JSON: the edge translates it back, delivered to eni-web" "$TEST_DIR/out-reply.json" \
    '.reply.verdict.kind == "DELIVERED" and .reply.verdict.eni == "eni-web"
        and .reply.hops[0].result.translated == "nw_dst 203.0.113.10 -> 10.30.1.10"'
schema_ok "... JSON matches the schema" "$TEST_DIR/out-reply.json"
vpcctl_on e-host-a trace "$EE" --host host-a 'from uplink src 8.8.8.8 to 203.0.113.10' 2>&1 \
    | expect "from the uplink on a host: refused" 'host-a is not an edge with an uplink port'

# VPN (offline): from on-premises through the IPsec tunnel's port, and
# out of it.
EV=$TOP/examples/vpn.json
vtrace() {
    "$VPCCTL" trace "$EV" --host "$1" --offline --mapping="$VPC_MAPPING" "$2"
}
vtrace edge-1 'from vpn src 172.16.0.5 to 10.40.1.20 tcp dport 22' \
    | expect "from the VPN: ssh from on-premises delivered to eni-db on host-b" \
        'Final verdict: DELIVERED to eni-db \(port [0-9]+\) on host-b in stage deliver'
vtrace edge-1 'from vpn src 172.16.0.5 to 10.40.1.20 tcp dport 5432' \
    | expect "from the VPN: 5432 dropped by host-b's security group" \
        'Final verdict: DROPPED on host-b in stage sg_in'
vtrace edge-1 'from vpn src 172.17.0.5 to 10.40.1.20 tcp dport 22' \
    | expect "from the VPN: a source outside the on-premises prefixes: dropped at the edge" \
        'Final verdict: DROPPED on edge-1 in stage edge_in'
vtrace host-a 'from eni-app to 172.16.0.5 tcp dport 22' \
    | expect "to on-premises: out the VPN port, untranslated" \
        'Final verdict: OUT the vpn port \([0-9]+\), untranslated on edge-1 in stage edge_out by vgw-corp'
vtrace host-a 'from vpn src 172.16.0.5 to 10.40.1.20' 2>&1 \
    | expect "from the VPN on a host: refused" 'host-a is not an edge with a VPN port'

# Without a way to reach host-b, the trace stops there and says so.
vpcctl_on host-a trace "$EX" --host host-a "$SSH" \
    | expect "no switch for host-b: not traced, says how" \
        'Host host-b: not traced: no switch given \(--rundir=host-b=DIR\), and not --offline'

# host-b runs other flows than the document compiles to (rule 90 gone).
jq '(.network_acls[] | select(.id == "acl-app") | .ingress) |= map(select(.rule_number != 90))' \
    "$EX" > "$TEST_DIR/no-90.json"
vpcctl_on host-b apply "$TEST_DIR/no-90.json" --host host-b >/dev/null
live host-a "$SSH" 2>/dev/null \
    | expect "other flows on host-b: said, with the count" \
        "Warning: host-b runs other flows than $EX compiles to: [1-9][0-9]* differ"
live host-a "$SSH" 2>/dev/null | expect_not "... and not about host-a" \
    'Warning: host-a runs other flows'
live host-a "$SSH" --format=json > "$TEST_DIR/differ.json" 2>/dev/null
jq_ok "other flows: JSON counts them on host-b's hop" "$TEST_DIR/differ.json" \
    '.hops[0].flows_differ == 0 and .hops[1].flows_differ > 0'
vpcctl_on host-b apply "$EX" --host host-b >/dev/null
expect_not "back in sync: no warning" 'runs other flows' live host-a "$SSH"
expect "back in sync: the verdict again" 'Final verdict: DROPPED on host-b' \
    live host-a "$SSH"

# Action mode: host-b's mapping cache lost an entry (host-a's web ENI).
if [ "$VPC_MAPPING" = action ]; then
    appctl_on host-b vpcmap/del 1010 10.10.1.10 >/dev/null
    live host-a "$SSH" 2>/dev/null | expect "other cache on host-b: said, with the count" \
        "Warning: host-b's mapping cache is not the one $EX compiles to: 1 entries differ"
    live host-a "$SSH" --format=json > "$TEST_DIR/cache.json" 2>/dev/null
    jq_ok "other cache: JSON counts it on host-b's hop" "$TEST_DIR/cache.json" \
        '.hops[0].cache_differ == 0 and .hops[1].cache_differ == 1'
    vpcctl_on host-b apply "$EX" --host host-b >/dev/null
    expect_not "cache back in sync: no warning" 'mapping cache is not' \
        live host-a "$SSH"
fi

# The grammar: strict, errors name the word.
live host-a "$SSH" --ct-state=est,bogus 2>&1 \
    | expect "--ct-state: a word that is no state is named" '"bogus": expected a comma-separated list of new, est, rel, rpl, inv'
live host-a 'from tunnel 192.168.100.1 vni 99999999 src 10.10.1.10 to 10.10.2.10' 2>&1 \
    | expect "tunnel: a VNI out of range" 'vni "99999999": not a VNI'
live host-a 'from tunnel 192.168.100.1 vni 77 src 10.10.1.10 to 10.10.2.10' 2>&1 \
    | expect "tunnel: a VNI of no VPC" 'vni 77: no VPC of the region has this VNI'
live host-a 'from tunnel 192.168.100.1 src 10.10.1.10 to 10.10.2.10' 2>&1 \
    | expect "tunnel: the expected form" "expected 'from tunnel UNDERLAY-IP vni N src IP to IP"
live host-a 'from eni-web-a src 10.10.1 to 10.10.2.10' 2>&1 \
    | expect "src: not an address" 'src "10.10.1": not an IPv4 address'
live host-a 'from eni-web-a to 10.10.2.10 dport 22' 2>&1 \
    | expect "dport without tcp or udp" 'dport and sport need tcp or udp'
vpcctl_on host-a trace "$EX" --host host-a --rundir=host-b "$SSH" 2>&1 \
    | expect "--rundir without DIR" '--rundir=host-b: expected HOST=DIR'

ovs_stop_all
finish

#!/usr/bin/env bash
# Sandbox: peering.json on host-a.  a <-> b are peered through pcx-ab; c is
# peered with no one and has no routes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
EX=$TOP/examples/peering.json

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-a1 1 eni-a1
sandbox_vm host-a vm-b1 2 eni-b1
sandbox_vm host-a vm-c1 3 eni-c1
vpcctl_on host-a apply "$EX" --host host-a | expect "apply installs flows" ' [1-9][0-9]* added'

t() { vpcctl_on host-a trace "$EX" --host host-a "$1"; }
t 'from eni-a1 to 10.2.1.20 tcp dport 22' \
    | expect "a1 -> b2 is tunnelled to host-b with vpc-b's VNI" 'Verdict: ENCAPSULATED to 192\.168\.100\.2, VNI 102, in stage mapping by eni-b2'
t 'from eni-a1 to 10.2.1.20 tcp dport 22' \
    | expect "the peering route (rtb-a routes[0]) matches" '\[route\].*<- rtb-a routes\[0\]'
t 'from eni-a1 to 10.2.1.20 tcp dport 22' \
    | expect "... and switches the VPC context to vpc-b (reg1 = 102)" 'set_field:0x66->reg1'
t 'from eni-a1 to 10.2.1.10 icmp' \
    | expect "a1 -> b1 (same host) is delivered through the peering" 'Verdict: FORWARDED in stage deliver by eni-b1'
t 'from eni-a1 to 10.1.1.20 icmp' \
    | expect "a1 -> a2 stays in vpc-a's VNI" 'Verdict: ENCAPSULATED to 192\.168\.100\.2, VNI 101, in stage mapping by eni-a2'
t 'from eni-a1 to 10.3.1.20 icmp' \
    | expect "a1 -> c2 has no route: dropped" 'Verdict: DROPPED in stage route'
t 'from eni-a1 to 10.3.1.10 icmp' \
    | expect "a1 -> c1 (same host) has no route: dropped" 'Verdict: DROPPED in stage route'
t 'from eni-c1 to 10.1.1.10 icmp' \
    | expect "c1 -> a1 has no route: dropped" 'Verdict: DROPPED in stage route'
t 'from eni-c1 to 10.3.1.20 icmp' \
    | expect "c1 -> c2 (its own VPC) still works" 'Verdict: ENCAPSULATED to 192\.168\.100\.2, VNI 103, in stage mapping by eni-c2'

# Receive side: VNI 101 (vpc-a) from host-b.
P1=$(dp_port host-a vm-a1)
rx_trace host-a 101 192.168.100.2 02:00:00:0a:01:0a 10.2.1.20 10.1.1.10 | dp_actions \
    | expect "peer b2 -> a1 over VNI 101 is delivered to a1" "^Datapath actions: ct\(commit,zone=1\),$P1$"
if [ "$VPC_MAPPING" = flows ]; then
    out=$(rx_trace host-a 101 192.168.100.2 02:00:00:0a:01:0a 10.3.1.20 10.1.1.10)
    dp_actions <<<"$out" | expect "c2's address inside VNI 101 is dropped" '^Datapath actions: drop$'
    expect "... by rx_verify" '^ *70\. .*priority 0' <<<"$out"
    expect_not "... before dst_lookup" '^ *75\.' <<<"$out"
    rx_trace host-a 101 192.168.100.9 02:00:00:0a:01:0a 10.2.1.20 10.1.1.10 | dp_actions \
        | expect "b2's address from a host that does not hold it is dropped" '^Datapath actions: drop$'
fi

# Real Geneve frames on the underlay port (both modes).
rxp() { rx_packet host-a vm-a1 101 "$1" 02:00:00:0a:01:0a "$2" 10.1.1.10; }
[ "$(rxp 192.168.100.2 10.2.1.20)" = 1 ] && pass "real frame: peer b2 -> a1 delivered" \
    || fail "real frame: peer b2 -> a1 delivered"
[ "$(rxp 192.168.100.2 10.3.1.20)" = 0 ] && pass "real frame: unpeered c2's address in VNI 101 dropped" \
    || fail "real frame: unpeered c2's address in VNI 101 dropped"
[ "$(rxp 192.168.100.9 10.2.1.20)" = 0 ] && pass "real frame: b2's address from the wrong host dropped" \
    || fail "real frame: b2's address from the wrong host dropped"

finish

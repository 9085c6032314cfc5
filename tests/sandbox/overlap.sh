#!/usr/bin/env bash
# Sandbox: three VPCs with the same addresses on one host (overlapping-ips.json).
# Only the VNI keeps them apart, on the way out and on the way in.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
EX=$TOP/examples/overlapping-ips.json
vni() { python3 -c 'import json,sys; print(next(v["vni"] for v in json.load(open(sys.argv[1]))["vpcs"] if v["id"]==sys.argv[2]))' "$EX" "$1"; }
RED=$(vni vpc-red); BLUE=$(vni vpc-blue); GREEN=$(vni vpc-green)

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-red 1 eni-red-a
sandbox_vm host-a vm-blue 2 eni-blue-a
sandbox_vm host-a vm-green 3 eni-green-a
vpcctl_on host-a apply "$EX" --host host-a | expect "apply installs flows" ' [1-9][0-9]* added'

t() { vpcctl_on host-a trace "$EX" --host host-a "$1"; }
t 'from eni-red-a to 10.0.1.20 icmp' \
    | expect "red -> 10.0.1.20 tunnelled to host-b with red's VNI" "Verdict: ENCAPSULATED to 192\.168\.100\.2, VNI $RED, in stage mapping by eni-red-b"
t 'from eni-blue-a to 10.0.1.20 icmp' \
    | expect "blue -> 10.0.1.20 tunnelled to host-b with blue's VNI" "Verdict: ENCAPSULATED to 192\.168\.100\.2, VNI $BLUE, in stage mapping by eni-blue-b"
t 'from eni-green-a to 10.0.1.20 tcp dport 80' \
    | expect "green -> 10.0.1.20 tunnelled to host-b with green's VNI" "Verdict: ENCAPSULATED to 192\.168\.100\.2, VNI $GREEN, in stage mapping by eni-green-b"
out=$(t 'from eni-red-a to 10.0.1.10 icmp')
expect "red -> 10.0.1.10 stays in red (its own ENI)" 'Verdict: FORWARDED in stage deliver by eni-red-a' <<<"$out"
expect_not "red -> 10.0.1.10 never reaches blue's ENI" 'eni-blue-a|output:2([^0-9]|$)' <<<"$out"
expect_not "red -> 10.0.1.10 never reaches green's ENI" 'eni-green-a|output:3([^0-9]|$)' <<<"$out"

# Receive side: a Geneve packet from host-b goes to the ENI of its VNI only.
P1=$(dp_port host-a vm-red); P2=$(dp_port host-a vm-blue); P3=$(dp_port host-a vm-green)
rx() { rx_trace host-a "$1" "$2" "$3" 10.0.1.20 10.0.1.10 | dp_actions; }
rx "$BLUE" 192.168.100.2 02:00:00:02:01:0a \
    | expect "VNI $BLUE from host-b is delivered to blue's port (2)" "^Datapath actions: ct\(commit,zone=2\),$P2$"
rx "$BLUE" 192.168.100.2 02:00:00:02:01:0a \
    | expect_not "VNI $BLUE is not delivered to red's or green's port" "[,:] ?($P1|$P3)(,|$)"
rx "$RED" 192.168.100.2 02:00:00:01:01:0a \
    | expect "VNI $RED from host-b is delivered to red's port (1)" "^Datapath actions: ct\(commit,zone=1\),$P1$"
rx "$GREEN" 192.168.100.2 02:00:00:03:01:0a \
    | expect "VNI $GREEN from host-b is delivered to green's port (3)" "^Datapath actions: ct\(commit,zone=3\),$P3$"
rx "$RED" 192.168.100.2 02:00:00:02:01:0a \
    | expect "VNI $RED with blue's MAC is dropped" '^Datapath actions: drop$'
if [ "$VPC_MAPPING" = flows ]; then
    rx "$BLUE" 192.168.100.9 02:00:00:02:01:0a \
        | expect "spoofed outer source (not 10.0.1.20's host) is dropped" '^Datapath actions: drop$'
fi

# The same with real Geneve frames on the underlay port (both modes).
n=$(rx_packet host-a vm-blue "$BLUE" 192.168.100.2 02:00:00:02:01:0a 10.0.1.20 10.0.1.10)
[ "$n" = 1 ] && pass "real frame: VNI $BLUE from host-b reaches blue's VM" \
    || fail "real frame: VNI $BLUE from host-b reaches blue's VM ($n)"
n=$(rx_packet host-a vm-blue "$BLUE" 192.168.100.9 02:00:00:02:01:0a 10.0.1.20 10.0.1.10)
[ "$n" = 0 ] && pass "real frame: spoofed outer source is dropped" \
    || fail "real frame: spoofed outer source is dropped ($n)"

finish

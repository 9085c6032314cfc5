#!/usr/bin/env bash
# Sandbox: the web tier on host-a, applied to a real ovs-vswitchd (dummy
# datapath) and checked with ofproto/trace through vpcctl trace.
. "$(dirname "$0")/../lib.sh"
EX=$TOP/examples/web-tier.json

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web 1 eni-web-a
sandbox_vm host-a vm-client 2 eni-client-a

vpcctl_on host-a apply "$EX" --host host-a | expect "apply installs flows" ' [1-9][0-9]* added'
vpcctl_on host-a apply "$EX" --host host-a | expect "second apply changes nothing" ' 0 added, 0 modified, 0 deleted'

t() { vpcctl_on host-a trace "$EX" --host host-a "$1"; }

t 'from eni-client-a to 10.10.1.10 tcp dport 443' \
    | expect "client -> web:443 delivered locally" 'Verdict: FORWARDED in stage deliver by eni-web-a'
t 'from eni-client-a to 10.10.1.10 tcp dport 22' \
    | expect "client -> web:22 dropped by sg_in" 'Verdict: DROPPED in stage sg_in'
t 'from eni-client-a to 10.10.1.10 tcp dport 443' \
    | expect "the allowing rule is named" 'sg-web ingress\[0\]'
t 'from eni-web-a to 10.10.2.10 tcp dport 8080' \
    | expect "web -> app (remote) is encapsulated to host-b" 'Verdict: ENCAPSULATED to 192.168.100.2, VNI 1010, in stage mapping by eni-app-b'
t 'from eni-web-a to 10.10.2.10 tcp dport 8080' \
    | expect "cross-subnet traffic has its TTL decremented" 'dec_ttl'
t 'from eni-client-a to 10.10.1.10 tcp dport 443' \
    | expect_not "same-subnet traffic keeps its TTL" 'dec_ttl'
t 'from eni-web-a to 8.8.8.8 tcp dport 443' \
    | expect "internet-bound traffic goes to the edge" 'Verdict: ENCAPSULATED to 192.168.100.254, VNI 15728640, in stage route by rtb-web routes\[0\]'
t 'from eni-web-a to 10.10.1.1' \
    | expect "the router answers ping" 'Verdict: FORWARDED in stage vrouter by subnet-web router'
t 'from eni-web-a arp 10.10.1.20' \
    | expect "ARP for a subnet address is answered" 'Verdict: FORWARDED in stage vrouter by subnet-web router'
t 'from eni-web-a to 10.10.9.9' \
    | expect "no ENI behind a VPC address: dropped in mapping" 'Verdict: DROPPED in stage mapping'

# Bad input: nothing is applied, the switch keeps its flows.
before=$(ofctl_on host-a dump-flows br-int --no-stats | sort)
sed 's/"10.10.1.0\/24"/"10.10.1.0\/33"/' "$EX" > "$TEST_DIR/bad.json"
expect_status "invalid document is refused" 1 vpcctl_on host-a apply "$TEST_DIR/bad.json" --host host-a
vpcctl_on host-a apply "$TEST_DIR/bad.json" --host host-a 2>&1 \
    | expect "the error names path, value and rule" '\$\.subnets\[0\]\.cidr: "10\.10\.1\.0/33": not an IPv4 prefix'
after=$(ofctl_on host-a dump-flows br-int --no-stats | sort)
[ "$before" = "$after" ] && pass "flows unchanged after the refused apply" \
    || fail "flows changed after a refused apply"

finish

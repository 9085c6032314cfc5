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

# With a flow log, the same verdicts: a flow of only a sample drops
# (docs/flow-logs.md), an accepted packet is sampled and delivered.
jq '.flow_logs = [{"id": "fl-web", "resource": "vpc-web", "traffic_type": "ALL"}]' \
    "$EX" > "$TEST_DIR/logged.json"
vpcctl_on host-a apply "$TEST_DIR/logged.json" --host host-a >/dev/null
# The collector set vpcd would make (without one, OVS translates the sample
# to nothing).
vsctl_on host-a -- --id=@br get Bridge br-int \
    -- --id=@i create IPFIX targets='"127.0.0.1:9"' cache_max_flows=100 \
    -- create Flow_Sample_Collector_Set id=30320 bridge=@br ipfix=@i >/dev/null
tl() { vpcctl_on host-a trace "$TEST_DIR/logged.json" --host host-a "$1"; }
tl 'from eni-client-a to 10.10.1.10 tcp dport 22' \
    | expect "flow log: client -> web:22 still dropped by sg_in, by the flow log's flow" \
        'Verdict: DROPPED in stage sg_in by eni-web-a flow log'
tl 'from eni-client-a to 10.10.1.10 tcp dport 443' \
    | expect "flow log: client -> web:443 still delivered" 'Verdict: FORWARDED in stage deliver by eni-web-a'
tl 'from eni-client-a to 10.10.1.10 tcp dport 443' \
    | expect "flow log: ... and sampled" 'sample\(probability=65535,collector_set_id=30320'
tl 'from eni-client-a to 10.10.1.10 tcp dport 22' \
    | expect "flow log: ... its datapath actions are only the sample" \
        'Datapath actions: userspace\(pid=[0-9]+,flow_sample\(.*obs_point_id=2147483649,'
vsctl_on host-a -- --all destroy Flow_Sample_Collector_Set
vpcctl_on host-a apply "$EX" --host host-a >/dev/null

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

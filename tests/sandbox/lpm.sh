#!/usr/bin/env bash
# Sandbox: longest-prefix match (lpm.json) and azure route precedence
# (azure-precedence.json), checked with vpcctl trace on a real switch.
. "$(dirname "$0")/../lib.sh"
EX=$TOP/examples/lpm.json
AZ=$TOP/examples/azure-precedence.json
EDGE='ENCAPSULATED to 192\.168\.100\.254'

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-src 1 eni-src-a
sandbox_vm host-a vm-app 2 eni-appliance
vpcctl_on host-a apply "$EX" --host host-a | expect "apply installs flows" ' [1-9][0-9]* added'

t() { vpcctl_on host-a trace "$1" --host host-a "$2"; }
out=$(t "$EX" 'from eni-src-a to 10.0.1.50 icmp')
expect "10.0.1.50: the /32 route (routes[2]) wins" '\[route\].*nw_dst=10\.0\.1\.50,.*<- rtb-lpm routes\[2\]$' <<<"$out"
expect "10.0.1.50: delivered to the appliance ENI" 'Verdict: FORWARDED in stage deliver by eni-appliance' <<<"$out"
t "$EX" 'from eni-src-a to 10.0.1.60 icmp' \
    | expect "10.0.1.60: the /24 NAT route wins over local and eni-dst-b" "Verdict: $EDGE, VNI 15728641, in stage route by rtb-lpm routes\[1\]"
out=$(t "$EX" 'from eni-src-a to 10.0.3.7 icmp')
expect "10.0.3.7: the /16 local route wins over the /8 VPN" '\[route\].*nw_dst=10\.0\.0\.0/16,.*<- vpc-lpm local$' <<<"$out"
expect "10.0.3.7: no ENI there, dropped in mapping" 'Verdict: DROPPED in stage mapping' <<<"$out"
t "$EX" 'from eni-appliance to 10.0.2.20 icmp' \
    | expect "local route from subnet-dst reaches eni-src-b on host-b" 'Verdict: ENCAPSULATED to 192\.168\.100\.2, VNI 300, in stage mapping by eni-src-b'
t "$EX" 'from eni-src-a to 10.9.9.9 icmp' \
    | expect "10.9.9.9: the /8 VPN route" "Verdict: $EDGE, VNI 15728642, in stage route by rtb-lpm routes\[0\]"
t "$EX" 'from eni-src-a to 8.8.8.8 tcp dport 443' \
    | expect "8.8.8.8: the default route to the IGW" "Verdict: $EDGE, VNI 15728640, in stage route by rtb-lpm routes\[3\]"
t "$EX" 'from eni-appliance to 8.8.8.8 icmp' \
    | expect "subnet-dst has only local routes: 8.8.8.8 dropped" 'Verdict: DROPPED in stage route'

# Azure precedence: user route = VPC block beats local; static beats
# propagated for the same prefix.
ovs_start host-b
sandbox_host host-b 192.168.100.2
sandbox_vm host-b vm-b 1 eni-vm-b
vpcctl_on host-b apply "$AZ" --host host-b | expect "azure: apply on host-b" ' [1-9][0-9]* added'
sandbox_vm host-a vm-a 3 eni-vm-a
vpcctl_on host-a apply "$AZ" --host host-a | expect "azure: apply on host-a replaces lpm's flows" ' [1-9][0-9]* deleted'
tb() { vpcctl_on host-b trace "$AZ" --host host-b "$1"; }
out=$(tb 'from eni-vm-b to 10.20.1.20 icmp')
expect "azure: vm-b -> vm-a takes the user route for the VPC block" '\[route\].*<- rtb-spoke routes\[0\]$' <<<"$out"
expect "azure: ... to the appliance, not to eni-vm-a" 'Verdict: ENCAPSULATED to 192\.168\.100\.1, VNI 2020, in stage (mapping by eni-appliance|route by rtb-spoke routes\[[02]\])' <<<"$out"
out=$(tb 'from eni-vm-b to 172.16.0.5 icmp')
expect "azure: 172.16.0.5 takes the static route (routes[2])" '\[route\].*<- rtb-spoke routes\[2\]$' <<<"$out"
expect "azure: ... to the appliance, not to vgw-az" 'Verdict: ENCAPSULATED to 192\.168\.100\.1, VNI 2020, in stage (mapping by eni-appliance|route by rtb-spoke routes\[[02]\])' <<<"$out"
t "$AZ" 'from eni-vm-a to 10.20.2.10 icmp' \
    | expect "azure: vm-a (subnet-hub, local only) -> vm-b goes straight" 'Verdict: ENCAPSULATED to 192\.168\.100\.2, VNI 2020, in stage mapping by eni-vm-b'

finish

#!/usr/bin/env bash
# Sandbox: the edge never becomes a path between unpeered VPCs.  An inline
# region: vpc-a (VNI 100) and vpc-b (VNI 200), both 10.0.0.0/16, each with an
# internet gateway on edge-1 and an ENI 10.0.1.10 on host-a (elastic IPs
# 203.0.113.10 and .20), and 10.0.2.10 on host-b in both; vpc-b also has
# 10.0.2.20 on host-b, which vpc-a does not.  vpc-a has a NAT gateway
# (203.0.113.30) and a Direct Connect VIF (S-tag 100, C-tag 200, on-premises
# 172.16.0.0/12); vpc-b a VIF on another S-tag of the same trunk (S-tag 101,
# C-tag 200, on-premises 192.168.50.0/24; (S, C) pairs must only be unique).
# Real frames into the sandboxed edge (as tests/sandbox/edge.sh); each check
# would catch traffic of one VPC reaching the other.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
# Gateway VNIs: 0xf00000 + position among the region's gateways.
IGW_A=15728640 IGW_B=15728641 NAT_A=15728642 DX_A=15728643 DX_B=15728644
GW=02:99:00:00:00:01 UP=02:76:70:ee:00:fe    # uplink next hop, edge uplink
EX=$TEST_DIR/isolation.json
cat > "$EX" <<'EOF'
{
  "description": "tests/sandbox/edge-isolation.sh: two unpeered VPCs with the same CIDR on one edge",
  "hosts": [
    {"id": "host-a", "underlay_ip": "192.168.100.1"},
    {"id": "host-b", "underlay_ip": "192.168.100.2"}
  ],
  "edges": [
    {"id": "edge-1", "underlay_ip": "192.168.100.254",
     "uplink_gateway_mac": "02:99:00:00:00:01", "uplink_mac": "02:76:70:ee:00:fe"}
  ],
  "vpcs": [
    {"id": "vpc-a", "cidr_blocks": ["10.0.0.0/16"], "vni": 100},
    {"id": "vpc-b", "cidr_blocks": ["10.0.0.0/16"], "vni": 200}
  ],
  "subnets": [
    {"id": "subnet-a-pub", "vpc": "vpc-a", "cidr": "10.0.1.0/24", "route_table": "rtb-a-pub"},
    {"id": "subnet-a-priv", "vpc": "vpc-a", "cidr": "10.0.2.0/24", "route_table": "rtb-a-priv"},
    {"id": "subnet-b-pub", "vpc": "vpc-b", "cidr": "10.0.1.0/24", "route_table": "rtb-b-pub"},
    {"id": "subnet-b-priv", "vpc": "vpc-b", "cidr": "10.0.2.0/24", "route_table": "rtb-b-priv"}
  ],
  "route_tables": [
    {"id": "rtb-a-pub", "vpc": "vpc-a", "routes": [
      {"destination": "0.0.0.0/0", "target": "igw-a"}]},
    {"id": "rtb-a-priv", "vpc": "vpc-a", "routes": [
      {"destination": "0.0.0.0/0", "target": "nat-a"},
      {"destination": "172.16.0.0/12", "target": "dxvif-a"}]},
    {"id": "rtb-b-pub", "vpc": "vpc-b", "routes": [
      {"destination": "0.0.0.0/0", "target": "igw-b"}]},
    {"id": "rtb-b-priv", "vpc": "vpc-b", "routes": [
      {"destination": "0.0.0.0/0", "target": "igw-b"},
      {"destination": "192.168.50.0/24", "target": "dxvif-b"}]}
  ],
  "security_groups": [
    {"id": "sg-a", "vpc": "vpc-a",
     "ingress": [{"protocol": "-1", "cidr": "0.0.0.0/0"}],
     "egress": [{"protocol": "-1", "cidr": "0.0.0.0/0"}]},
    {"id": "sg-b", "vpc": "vpc-b",
     "ingress": [{"protocol": "-1", "cidr": "0.0.0.0/0"}],
     "egress": [{"protocol": "-1", "cidr": "0.0.0.0/0"}]}
  ],
  "enis": [
    {"id": "eni-a-web", "subnet": "subnet-a-pub", "mac": "02:00:00:0a:01:0a",
     "private_ip": "10.0.1.10", "host": "host-a", "security_groups": ["sg-a"],
     "elastic_ip": "203.0.113.10"},
    {"id": "eni-a-app", "subnet": "subnet-a-priv", "mac": "02:00:00:0a:02:0a",
     "private_ip": "10.0.2.10", "host": "host-b", "security_groups": ["sg-a"]},
    {"id": "eni-b-web", "subnet": "subnet-b-pub", "mac": "02:00:00:0b:01:0a",
     "private_ip": "10.0.1.10", "host": "host-a", "security_groups": ["sg-b"],
     "elastic_ip": "203.0.113.20"},
    {"id": "eni-b-app", "subnet": "subnet-b-priv", "mac": "02:00:00:0b:02:0a",
     "private_ip": "10.0.2.10", "host": "host-b", "security_groups": ["sg-b"]},
    {"id": "eni-b-db", "subnet": "subnet-b-priv", "mac": "02:00:00:0b:02:14",
     "private_ip": "10.0.2.20", "host": "host-b", "security_groups": ["sg-b"]}
  ],
  "internet_gateways": [
    {"id": "igw-a", "vpc": "vpc-a"},
    {"id": "igw-b", "vpc": "vpc-b"}
  ],
  "nat_gateways": [
    {"id": "nat-a", "subnet": "subnet-a-pub", "elastic_ip": "203.0.113.30"}
  ],
  "direct_connect": [
    {"id": "dxvif-a", "vpc": "vpc-a", "s_tag": 100, "c_tag": 200,
     "onprem_prefixes": ["172.16.0.0/12"], "customer_router_mac": "02:cc:00:00:00:01"},
    {"id": "dxvif-b", "vpc": "vpc-b", "s_tag": 101, "c_tag": 200,
     "onprem_prefixes": ["192.168.50.0/24"], "customer_router_mac": "02:cc:00:00:00:02"}
  ]
}
EOF
"$VPCCTL" validate "$EX" | expect "the region is valid" 'valid: 2 VPCs'

sandbox_edge edge-1 192.168.100.254
vpcctl_on edge-1 apply "$EX" --host edge-1 | expect "apply on the edge" ' [1-9][0-9]* added'
ofctl_on edge-1 dump-flows br-int table=$(stage_table classify) \
    | expect "classify: igw-b's VNI loads vpc-b (sanity check of the VNI numbering)" \
      "tun_id=0xf00001,in_port=1000 actions=set_field:0xf00001->reg6,set_field:0xc8->reg1,"

from_host() {   # from_host VNI HOST_IP INNER_SRC INNER_DST: Geneve to the edge
    appctl_on edge-1 netdev-dummy/receive p0 \
        "$(geneve_hex "$1" "$2" 192.168.100.254 02:76:70:00:00:64 "$3" "$4")" >/dev/null
}
on() {          # on PORT FRAME-ARGS...: a frame arriving on PORT
    local port=$1; shift
    appctl_on edge-1 netdev-dummy/receive "$port" "$(frame_hex "$@")" >/dev/null
}
# packets FILE: one line per captured packet (tcpdump -v continuation lines
# joined), so that a Geneve header and its inner packet can be matched
# together.
packets() {
    pcap_text edge-1 "$1" | awk '/^[^ \t]/ { if (p != "") print p; p = $0; next }
                                 { p = p " " $0 } END { if (p != "") print p }'
}
# count FILE PATTERN: packets in FILE matching PATTERN (after 0.3 s).
count() { sleep 0.3; packets "$1" | grep -Ec -- "$2"; }
# is WHAT GOT WANTED: pass if the counts are as wanted.
is() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (counted $2, wanted $3)"; fi; }

echo "Internet -> elastic IPs: each VPC's own VNI and ENI, never the other's"
on uplink $GW $UP 8.8.8.8 203.0.113.10 8 11
on uplink $GW $UP 9.9.9.9 203.0.113.20 8 12
wait_pcap edge-1 p0.pcap '9.9.9.9 > 10.0.1.10' >/dev/null
is "to 203.0.113.10 (vpc-a): Geneve to host-a, VNI 100, eni-a-web's MAC" \
    "$(count p0.pcap '> 192\.168\.100\.1\.6081: Geneve.*vni 0x64,.*> 02:00:00:0a:01:0a.*8\.8\.8\.8 > 10\.0\.1\.10: ICMP echo request')" 1
is "... and nothing from 8.8.8.8 with vpc-b's VNI 200 or to eni-b-web" \
    "$(count p0.pcap '(vni 0xc8,|02:00:00:0b:01:0a).*8\.8\.8\.8 >')" 0
is "to 203.0.113.20 (vpc-b): Geneve to host-a, VNI 200, eni-b-web's MAC" \
    "$(count p0.pcap '> 192\.168\.100\.1\.6081: Geneve.*vni 0xc8,.*> 02:00:00:0b:01:0a.*9\.9\.9\.9 > 10\.0\.1\.10: ICMP echo request')" 1
is "... and nothing from 9.9.9.9 with vpc-a's VNI 100 or to eni-a-web" \
    "$(count p0.pcap '(vni 0x64,|02:00:00:0a:01:0a).*9\.9\.9\.9 >')" 0

echo "Same private source 10.0.1.10 on host-a: the gateway VNI picks the elastic IP"
from_host $IGW_A 192.168.100.1 10.0.1.10 1.1.1.1
from_host $IGW_B 192.168.100.1 10.0.1.10 1.0.0.1
wait_pcap edge-1 uplink.pcap '> 1.0.0.1' >/dev/null
is "igw-a's VNI: out as 203.0.113.10 (eni-a-web)" "$(count uplink.pcap '203\.0\.113\.10 > 1\.1\.1\.1: ICMP echo request')" 1
is "igw-b's VNI: out as 203.0.113.20 (eni-b-web)" "$(count uplink.pcap '203\.0\.113\.20 > 1\.0\.0\.1: ICMP echo request')" 1
is "... never the other VPC's elastic IP, never the private source" \
    "$(count uplink.pcap '203\.0\.113\.20 > 1\.1\.1\.1|203\.0\.113\.10 > 1\.0\.0\.1|10\.0\.1\.10 >')" 0

echo "edge_verify: a gateway of vpc-a does not take vpc-b's sources"
from_host $NAT_A 192.168.100.2 10.0.2.10 8.8.4.4
wait_pcap edge-1 uplink.pcap '> 8.8.4.4' >/dev/null
is "control: nat-a's VNI from host-b, source 10.0.2.10 (eni-a-app): out as 203.0.113.30" \
    "$(count uplink.pcap '203\.0\.113\.30 > 8\.8\.4\.4: ICMP echo request')" 1
from_host $NAT_A 192.168.100.2 10.0.2.20 8.8.4.5
is "nat-a's VNI, source 10.0.2.20 (only vpc-b's eni-b-db on host-b): dropped" \
    "$(count uplink.pcap '> 8\.8\.4\.5')" 0
from_host $DX_A 192.168.100.2 10.0.2.20 172.16.9.9
is "dxvif-a's VNI, source 10.0.2.20 (vpc-b's): nothing on the Direct Connect trunk" \
    "$(count dx.pcap '172\.16\.9\.9')" 0
from_host $IGW_B 192.168.100.2 10.0.2.10 8.8.4.6
is "igw-b's VNI, source 10.0.2.10 (eni-b-app, no elastic IP; eni-a-app's address too): no internet" \
    "$(count uplink.pcap '> 8\.8\.4\.6')" 0

echo "NAT gateway replies go back to vpc-a only (10.0.2.10 on host-b in both VPCs)"
on uplink $GW $UP 8.8.4.4 203.0.113.30 0 1
wait_pcap edge-1 p0.pcap '8.8.4.4 > 10.0.2.10' >/dev/null
is "the reply: Geneve to host-b, VNI 100, eni-a-app's MAC" \
    "$(count p0.pcap '> 192\.168\.100\.2\.6081: Geneve.*vni 0x64,.*> 02:00:00:0a:02:0a.*8\.8\.4\.4 > 10\.0\.2\.10: ICMP echo reply')" 1
is "... and never with VNI 200 or to eni-b-app" "$(count p0.pcap '(vni 0xc8,|02:00:00:0b:02:0a).*8\.8\.4\.4 >')" 0

echo "Direct Connect: a virtual interface reaches its own VPC only"
on dx 02:cc:00:00:00:01 $UP 172.16.5.5 10.0.2.10 0 1 88a8:100 8100:200
on dx 02:cc:00:00:00:02 $UP 192.168.50.5 10.0.2.10 0 2 88a8:101 8100:200
wait_pcap edge-1 p0.pcap '192.168.50.5 > 10.0.2.10' >/dev/null
is "S-tag 100/C-tag 200 (dxvif-a) from 172.16.5.5: VNI 100 to eni-a-app only" \
    "$(count p0.pcap 'vni 0x64,.*> 02:00:00:0a:02:0a.*172\.16\.5\.5 > 10\.0\.2\.10')/$(count p0.pcap 'vni 0xc8,.*172\.16\.5\.5 >')" 1/0
is "S-tag 101/C-tag 200 (dxvif-b) from 192.168.50.5: VNI 200 to eni-b-app only" \
    "$(count p0.pcap 'vni 0xc8,.*> 02:00:00:0b:02:0a.*192\.168\.50\.5 > 10\.0\.2\.10')/$(count p0.pcap 'vni 0x64,.*192\.168\.50\.5 >')" 1/0
# The S-tag names the customer's connection: traffic on dxvif-b's S-tag must
# not enter vpc-a because its C-tag and source fit dxvif-a, and vice versa.
on dx 02:cc:00:00:00:02 $UP 172.16.6.6 10.0.2.10 0 3 88a8:101 8100:200
on dx 02:cc:00:00:00:01 $UP 192.168.50.6 10.0.2.10 0 4 88a8:100 8100:200
is "S-tag 101 (dxvif-b's connection) with an on-premises source of dxvif-a: not into vpc-a" \
    "$(count p0.pcap '172\.16\.6\.6 >')" 0
is "S-tag 100 (dxvif-a's connection) with an on-premises source of dxvif-b: not into vpc-b" \
    "$(count p0.pcap '192\.168\.50\.6 >')" 0
on dx 02:cc:00:00:00:01 $UP 172.16.5.7 10.0.2.20 0 5 88a8:100 8100:200
is "dxvif-a to 10.0.2.20 (an address of vpc-b only): dropped" "$(count p0.pcap '172\.16\.5\.7 >')" 0

echo "The edge does not route between VPCs"
from_host 100 192.168.100.1 10.0.1.10 10.0.2.10
from_host 200 192.168.100.1 10.0.1.10 10.0.2.20
is "Geneve with a VPC's own VNI (100, 200; not a gateway's) is not forwarded" \
    "$(count p0.pcap '10\.0\.1\.10 > 10\.0\.2\.')/$(count uplink.pcap '> 10\.0\.2\.')/$(count dx.pcap '> 10\.0\.2\.')" 0/0/0
from_host $IGW_A 192.168.100.1 10.0.1.10 203.0.113.20
wait_pcap edge-1 uplink.pcap '> 203.0.113.20' >/dev/null
is "vpc-a -> vpc-b's elastic IP: out the uplink as 203.0.113.10 (the internet decides), no short cut" \
    "$(count uplink.pcap "$UP > $GW.*203\.0\.113\.10 > 203\.0\.113\.20: ICMP echo request")/$(count p0.pcap '> 203\.0\.113\.20|10\.0\.1\.10 > 10\.0\.1\.10|> 192\.168\.100\.1\.6081.*203\.0\.113\.10 >')" 1/0

if [ "$FAILS" -ne 0 ]; then
    ofctl_on edge-1 dump-flows br-int | grep -v 'n_packets=0,' | sed 's/^/   /' > "$TEST_DIR/flows.txt"
    echo "  edge flows with packets: $TEST_DIR/flows.txt"
fi
finish

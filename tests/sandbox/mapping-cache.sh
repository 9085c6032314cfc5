#!/usr/bin/env bash
# Sandbox: ovs-ext's mapping cache, vpc_encap and vpc_verify on the patched
# ovs-vswitchd (runs in the action mapping mode whatever VPC_MAPPING says).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
VPC_MAPPING=action
R=$TEST_DIR/region.json
eni() { printf '{"id":"%s","subnet":"subnet-m","mac":"%s","private_ip":"%s","host":"%s","security_groups":["sg-m"]}' "$@"; }
cat > "$R" <<JSON
{ "hosts": [ {"id":"host-a","underlay_ip":"192.168.100.1"}, {"id":"host-b","underlay_ip":"192.168.100.2"},
             {"id":"host-c","underlay_ip":"192.168.100.3"}, {"id":"host-d","underlay_ip":"192.168.100.4"} ],
  "vpcs": [ {"id":"vpc-m","cidr_blocks":["10.0.0.0/16"],"vni":100},
            {"id":"vpc-far","cidr_blocks":["10.9.0.0/16"],"vni":900} ],
  "subnets": [ {"id":"subnet-m","vpc":"vpc-m","cidr":"10.0.1.0/24"},
               {"id":"subnet-far","vpc":"vpc-far","cidr":"10.9.1.0/24"} ],
  "security_groups": [ {"id":"sg-m","vpc":"vpc-m","ingress":[{"protocol":"-1","cidr":"10.0.0.0/16"}],"egress":[{"protocol":"-1","cidr":"0.0.0.0/0"}]},
                       {"id":"sg-far","vpc":"vpc-far"} ],
  "enis": [ $(eni eni-src 02:00:00:00:01:0a 10.0.1.10 host-a), $(eni eni-loc 02:00:00:00:01:0b 10.0.1.11 host-a),
            $(eni eni-b 02:00:00:00:01:14 10.0.1.20 host-b), $(eni eni-c 02:00:00:00:01:1e 10.0.1.30 host-c),
            $(eni eni-d 02:00:00:00:01:28 10.0.1.40 host-d),
            {"id":"eni-far","subnet":"subnet-far","mac":"02:00:00:09:01:0a","private_ip":"10.9.1.10","host":"host-b","security_groups":["sg-far"]} ] }
JSON

ovs_start host-a
sandbox_host host-a 192.168.100.1
appctl_on host-a tnl/arp/set br-phy 192.168.100.3 02:ee:00:00:00:03 >/dev/null
appctl_on host-a tnl/arp/set br-phy 192.168.100.4 02:ee:00:00:00:04 >/dev/null
sandbox_vm host-a vm-src 1 eni-src
sandbox_vm host-a vm-loc 2 eni-loc
vpcctl_on host-a apply "$R" --host host-a | expect "apply loads the cache" 'mapping cache: loaded 5 entries'

vpcctl_on host-a mapping "$R" --host host-a 2>/dev/null | expect_not "no entry for a VPC without presence on host-a" '^900 '
ofctl_on host-a dump-flows br-int table=$(stage_table mapping) | expect "ovs-ofctl prints vpc_encap" 'vpc_encap\(port=1000,hint=192\.168\.100\.2\)'

send() {
    appctl_on host-a netdev-dummy/receive vm-src "eth(src=02:00:00:00:01:0a,dst=02:76:70:00:00:64),eth_type(0x0800),ipv4(src=10.0.1.10,dst=$1,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)" >/dev/null
}
for d in 10.0.1.20 10.0.1.30 10.0.1.40 10.0.1.11; do send $d; done
wait_pcap host-a p0.pcap '192.168.100.4.6081' >/dev/null
pcap_text host-a p0.pcap | expect "Geneve to host-b, VNI 0x64" '192\.168\.100\.1\.[0-9]+ > 192\.168\.100\.2\.6081: Geneve.*vni 0x64'
pcap_text host-a p0.pcap | expect "to host-c with host-c's neighbor MAC" '> 02:ee:00:00:00:03'
pcap_text host-a p0.pcap | expect "... and outer destination 192.168.100.3" '192\.168\.100\.1\.[0-9]+ > 192\.168\.100\.3\.6081: Geneve.*vni 0x64'
pcap_text host-a p0.pcap | expect "inner destination MAC is eni-d's" '02:76:70:00:00:64 > 02:00:00:00:01:28'
wait_pcap host-a vm-loc.pcap '10.0.1.10 > 10.0.1.11' \
    | expect "a local ENI gets it through the loopback" '10\.0\.1\.10 > 10\.0\.1\.11: ICMP echo request'
appctl_on host-a dpctl/dump-flows | grep -c 'vpc_encap(' \
    | expect "three remote destinations and a local one: one datapath flow" '^1$'
appctl_on host-a dpctl/dump-flows | grep 'vpc_encap(' \
    | expect_not "... which does not match the inner destination exactly" 'dst=10\.0\.1\.(20|30|40|11)[,)]'

before=$(pcap_text host-a p0.pcap | grep -c Geneve)
send 10.0.1.99
sleep 0.3
appctl_on host-a vpcmap/stats | expect "a miss is counted" 'misses=1 '
[ "$(pcap_text host-a p0.pcap | grep -c Geneve)" = "$before" ] && pass "a miss sends nothing" || fail "a miss sends nothing"

n=$(rx_packet host-a vm-src 100 192.168.100.2 02:00:00:00:01:0a 10.0.1.20 10.0.1.10)
[ "$n" = 1 ] && pass "vpc_verify passes the legitimate source" || fail "vpc_verify passes the legitimate source ($n)"
n=$(rx_packet host-a vm-src 100 192.168.100.3 02:00:00:00:01:0a 10.0.1.20 10.0.1.10)
[ "$n" = 0 ] && pass "vpc_verify drops a source from the wrong host" || fail "vpc_verify drops a source from the wrong host ($n)"
n=$(rx_packet host-a vm-src 100 192.168.100.2 02:00:00:00:01:0a 10.0.1.77 10.0.1.10)
[ "$n" = 0 ] && pass "vpc_verify drops an unknown source" || fail "vpc_verify drops an unknown source ($n)"
appctl_on host-a vpcmap/stats | expect "... and counts them (the loopback above passed too)" 'verify_ok=2 spoofed=2'

# Bulk reload under traffic: every packet to host-b still leaves.
before=$(pcap_text host-a p0.pcap | grep -c '> 192.168.100.2.6081')
gen0=$(appctl_on host-a vpcmap/stats | sed 's/.*generation=\([0-9]*\).*/\1/')
for i in $(seq 60); do
    send 10.0.1.20
    [ $((i % 10)) = 0 ] && vpcctl_on host-a apply "$R" --host host-a >/dev/null
done
sleep 0.5
after=$(pcap_text host-a p0.pcap | grep -c '> 192.168.100.2.6081')
[ $((after - before)) = 60 ] && pass "60 packets across 6 cache reloads: none lost" \
    || fail "60 packets across 6 cache reloads: $((after - before)) arrived"
gen1=$(appctl_on host-a vpcmap/stats | sed 's/.*generation=\([0-9]*\).*/\1/')
[ "$gen1" -ge $((gen0 + 6)) ] && pass "each reload is a new generation" || fail "generation $gen0 -> $gen1"

# Flows do not grow with remote ENIs in action mode; they do in flows mode.
python3 - "$R" "$TEST_DIR/big.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for i in range(200):
    d["enis"].append({"id": "eni-x%d" % i, "subnet": "subnet-m", "mac": "02:00:00:10:%02x:%02x" % (i // 256, i % 256),
                      "private_ip": "10.0.%d.%d" % (1, 50 + i), "host": "host-b", "security_groups": ["sg-m"]})
json.dump(d, open(sys.argv[2], "w"))
PY
count() { "$VPCCTL" compile "$1" --host host-a --bind eni-src=1 --bind eni-loc=2 --tunnel-port 1000 --mapping="$2" 2>/dev/null | grep -c '^table'; }
[ "$(count "$R" action)" = "$(count "$TEST_DIR/big.json" action)" ] \
    && pass "action mode: same flow count with 200 more remote ENIs ($(count "$R" action))" \
    || fail "action mode flow count grows: $(count "$R" action) -> $(count "$TEST_DIR/big.json" action)"
[ "$(count "$TEST_DIR/big.json" flows)" -ge $(( $(count "$R" flows) + 400 )) ] \
    && pass "flows mode grows by (at least) 2 flows per remote ENI" || fail "flows mode did not grow"

# A datapath without the actions refuses them instead of mis-forwarding.
appctl_on host-a dpif/set-dp-features br-int vpc_actions false >/dev/null
appctl_on host-a ofproto/trace br-int in_port=1,icmp,dl_src=02:00:00:00:01:0a,nw_src=10.0.1.10,nw_dst=10.0.1.20,nw_ttl=64 --ct-next trk,new --ct-next trk,new \
    | expect "unsupported datapath: a clear error" 'does not support ovs-vpc actions'
finish

#!/usr/bin/env bash
# Sandbox: real packets through the web tier on host-a (web-tier.json).
# Frames are injected on the VM's dummy port; what OVS sends is read back
# from the pcaps it writes (tcpdump), not from traces.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
EX=$TOP/examples/web-tier.json
M=02:00:00:10:01:0a                # eni-web-a, 10.10.1.10
R=02:76:70:00:03:f2                # router MAC: 02:76:70 + VNI 1010 (0x0003f2)

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web 1 eni-web-a
sandbox_vm host-a vm-client 2 eni-client-a
vpcctl_on host-a apply "$EX" --host host-a | expect "apply installs flows" ' [1-9][0-9]* added'

rx() { appctl_on host-a netdev-dummy/receive vm-web "$1" >/dev/null; }
arp() { rx "eth(src=$M,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=$1,tip=$2,op=1,sha=$M,tha=00:00:00:00:00:00)"; }
ip4() { rx "eth(src=$M,dst=$R),eth_type(0x0800),ipv4(src=$1,dst=$2,proto=$3,tos=0,ttl=64,frag=no),$4"; }
SYN='tcp(src=40000,dst=%s),tcp_flags(syn)'

# (a) ARP for another address of the subnet: the router answers.
arp 10.10.1.10 10.10.1.20
wait_pcap host-a vm-web.pcap 'is-at' \
    | expect "ARP for 10.10.1.20 is answered with the router MAC" "^[^ ]+ $R > $M, ethertype ARP .*Reply 10\.10\.1\.20 is-at $R,"
# (b) Ping to the subnet's router address: echo reply from it.
ip4 10.10.1.10 10.10.1.1 1 'icmp(type=8,code=0)'
wait_pcap host-a vm-web.pcap 'echo reply' \
    | expect "the router 10.10.1.1 answers ping" '10\.10\.1\.1 > 10\.10\.1\.10: ICMP echo reply'
# (c) To remote ENIs: Geneve to host-b with VNI 1010 (0x3f2).
ip4 10.10.1.10 10.10.2.10 6 "$(printf "$SYN" 8080)"
ip4 10.10.1.10 10.10.1.11 6 "$(printf "$SYN" 443)"
p0=$(wait_pcap host-a p0.pcap '10\.10\.1\.11\.40000')
expect "web -> app-b leaves as Geneve to host-b:6081, VNI 0x3f2" '192\.168\.100\.1\.[0-9]+ > 192\.168\.100\.2\.6081: Geneve.* vni 0x3f2,' <<<"$p0"
expect "... inner frame from the router MAC to app-b, TTL 63 (crossed subnets)" "^\s+$R > 02:00:00:10:02:0a, ethertype IPv4 .*ttl 63," <<<"$p0"
expect "... inner TCP SYN to 10.10.2.10:8080" '10\.10\.1\.10\.40000 > 10\.10\.2\.10\.8080: Flags \[S\]' <<<"$p0"
expect "web -> web-b (same subnet) keeps TTL 64" "^\s+$R > 02:00:00:10:01:0b, ethertype IPv4 .*ttl 64," <<<"$p0"
[ "$(grep -c 'Geneve' <<<"$p0")" = 2 ] && pass "exactly two Geneve packets on the underlay" \
    || fail "expected 2 Geneve packets on p0, got: $(grep -c Geneve <<<"$p0")"

# (d) Spoofed source IP (and a spoofed ARP sender): nothing comes out.
ip4 10.10.1.99 10.10.2.10 6 "$(printf "$SYN" 8080)"
ip4 10.10.1.99 10.10.1.11 6 "$(printf "$SYN" 443)"
ip4 10.10.1.99 10.10.1.1 1 'icmp(type=8,code=0)'
arp 10.10.1.99 10.10.1.30
# A legitimate marker sent last: once it is out, the spoofed ones were handled.
ip4 10.10.1.10 10.10.1.11 6 "$(printf "$SYN" 444)"
wait_pcap host-a p0.pcap '10\.10\.1\.11\.444:' | expect "the marker packet went out" '10\.10\.1\.11\.444:'
all=$(pcap_text host-a p0.pcap; pcap_text host-a vm-web.pcap; pcap_text host-a vm-client.pcap)
expect_not "spoofed 10.10.1.99 appears in no capture" '10\.10\.1\.99' <<<"$all"
expect_not "the spoofed ARP gets no reply" '10\.10\.1\.30' <<<"$all"
[ "$(pcap_text host-a vm-web.pcap | grep -Ec '^[0-9]')" = 2 ] && pass "vm-web received exactly the ARP reply and the echo reply" \
    || fail "vm-web received $(pcap_text host-a vm-web.pcap | grep -Ec '^[0-9]') frames, wanted 2"
[ -z "$(pcap_text host-a vm-client.pcap)" ] && pass "vm-client received nothing" || fail "vm-client received frames"

finish

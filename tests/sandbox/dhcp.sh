#!/usr/bin/env bash
# Sandbox: DHCP answered by vpcd (stage services, vpcd's packet-in
# controller) on a real ovs-vswitchd with the dummy datapath, host-a of the
# web tier.  A DISCOVER injected on vm-web's port (netdev-dummy/receive)
# comes back as an OFFER of eni-web-a's address with its options, out of
# vm-web's port only; a REQUEST for it gets an ACK, one for another address
# a NAK; a DISCOVER whose chaddr is not the ENI's MAC gets nothing
# (counted); a DNS query to the subnet's +2 is answered by the resolver
# from that address; a vpcd restart keeps every flow and ovs-vswitchd
# reconnects.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vpcd-lib.sh"
. "$TOP/tests/sandbox/helpers.sh"
command -v tcpdump >/dev/null || skip "no tcpdump"
EX=$TOP/examples/web-tier.json
PKT=$TOP/tests/dhcp-packet.py
MAC=02:00:00:10:01:0a

ovs_start host-a
sandbox_host host-a 192.168.100.1
sandbox_vm host-a vm-web 1 eni-web-a
sandbox_vm host-a vm-client 2 eni-client-a
D=${OVS_DIR[host-a]}
rx() { appctl_on host-a netdev-dummy/receive vm-web "$1" >/dev/null; }
svc() { vpcd_status host-a ".services.$1"; }

vpcd_start host-a "" --intents="$EX"
vpcd_expect_wait "vpcd installs the web tier" host-a '.in_sync and .version == 1'
vpcd_expect_wait "ovs-vswitchd connects to vpcd's packet-in socket" host-a '.services.connected'
vpcd_status host-a .repairs | expect "setting the controller first lost no flow (no repair)" '^0$'
vsctl_on host-a get bridge br-int fail_mode | expect "br-int's fail_mode is secure" '^secure$'
vsctl_on host-a list controller | expect "br-int's controller is vpcd's socket, rate-limited" 'controller_rate_limit: 5000'

echo "DISCOVER -> OFFER"
rx "$(python3 "$PKT" 1 $MAC)"
wait_pcap host-a vm-web.pcap 'DHCP-Message.*Offer' > "$TEST_DIR/offer.txt"
expect "vm-web gets an OFFER" 'DHCP-Message \(53\), length 1: Offer' < "$TEST_DIR/offer.txt"
expect "...of eni-web-a's address" 'Your-IP 10\.10\.1\.10' < "$TEST_DIR/offer.txt"
expect "...from the router (subnet + 1)" '10\.10\.1\.1\.67 > 10\.10\.1\.10\.68' < "$TEST_DIR/offer.txt"
expect "...to its MAC, from the router MAC" '02:76:70:00:03:f2 > 02:00:00:10:01:0a' < "$TEST_DIR/offer.txt"
expect "...with the subnet mask" 'Subnet-Mask.*255\.255\.255\.0' < "$TEST_DIR/offer.txt"
expect "...the router" 'Default-Gateway.*10\.10\.1\.1' < "$TEST_DIR/offer.txt"
expect "...the VPC resolver (AmazonProvidedDNS)" 'Domain-Name-Server.*10\.10\.0\.2' < "$TEST_DIR/offer.txt"
expect "...the default domain (names.c: the region of the AZ)" 'Domain-Name.*"az-1\.compute\.internal"' < "$TEST_DIR/offer.txt"
expect "...the MTU" 'MTU.*1450' < "$TEST_DIR/offer.txt"
expect "...a lease of an hour" 'Lease-Time.*3600' < "$TEST_DIR/offer.txt"
expect_not "the UDP checksum is right" 'bad udp cksum' < "$TEST_DIR/offer.txt"
[ -z "$(pcap_text host-a vm-client.pcap)" ] && pass "vm-client received nothing (never flooded)" \
    || fail "vm-client received frames"

echo "REQUEST -> ACK, NAK"
rx "$(python3 "$PKT" 3 $MAC "" 0x1111 10.10.1.10)"
wait_pcap host-a vm-web.pcap 'ACK' | expect "a REQUEST for its address gets an ACK" 'DHCP-Message \(53\), length 1: ACK'
rx "$(python3 "$PKT" 3 $MAC "" 0x2222 10.10.1.99)"
wait_pcap host-a vm-web.pcap 'NACK' | expect "a REQUEST for another address gets a NAK" 'DHCP-Message \(53\), length 1: NACK'

echo "Not the ENI's MAC"
n=$(svc dropped.spoofed)
rx "$(python3 "$PKT" 1 $MAC 02:00:00:10:01:14 0x3333)"
vpcd_expect_wait "a DISCOVER for another chaddr is counted as spoofed" host-a ".services.dropped.spoofed == $((n + 1))"
# vpcd answers in order: once a later DISCOVER's OFFER is out, an answer
# to the spoofed one would be too.
rx "$(python3 "$PKT" 1 $MAC "" 0x3334)"
wait_pcap host-a vm-web.pcap 'xid 0x3334' | expect "a DISCOVER after it is answered" 'xid 0x3334'
pcap_text host-a vm-web.pcap | expect_not "...and the spoofed one got no answer" 'xid 0x3333'
vpcd_http host-a GET /metrics >/dev/null
expect "/metrics counts the DHCP replies" 'vpcd_services_dhcp_replies_total\{type="OFFER"\} 2' <<<"$VPCD_BODY"
expect "/metrics counts the spoofed request" 'vpcd_services_dropped_total\{service="dhcp",reason="spoofed"\} 1' <<<"$VPCD_BODY"

echo "DNS (the VPC resolver, daemon/dns.c)"
rx "$(python3 "$PKT" dns $MAC 10.10.1.10 10.10.1.2 ip-10-10-1-20.az-1.compute.internal 0x5151)"
wait_pcap host-a vm-web.pcap '0x5151|20817' > "$TEST_DIR/dns.txt"
expect "a query to the subnet's +2 is answered from that address" '10\.10\.1\.2\.53 > 10\.10\.1\.10\.40000' < "$TEST_DIR/dns.txt"
expect "...with client-a's private address" 'A 10\.10\.1\.20' < "$TEST_DIR/dns.txt"
expect_not "...and a right UDP checksum" 'bad udp cksum' < "$TEST_DIR/dns.txt"
vpcd_status host-a .services.answered.dns | expect "status counts the DNS answer" '^1$'

echo "trace"
vpcctl_on host-a trace "$EX" --host host-a 'from eni-web-a to 10.10.0.2 udp dport 53' \
    | expect "vpcctl trace: a DNS query goes to vpcd" 'Verdict: TO VPCD'

echo "vpcd restart"
before=$(ofctl_on host-a dump-flows br-int --no-stats | grep cookie= | sort)
vpcd_kill host-a
after=$(ofctl_on host-a dump-flows br-int --no-stats | grep cookie= | sort)
[ "$before" = "$after" ] && pass "vpcd stopped: every flow stays (fail_mode secure)" \
    || fail "the flows changed while vpcd was away"
vpcd_start host-a "" --intents="$EX"
vpcd_expect_wait "ovs-vswitchd reconnects to the new vpcd" host-a '.services.connected and .in_sync'
rx "$(python3 "$PKT" 1 $MAC "" 0x4444)"
wait_pcap host-a vm-web.pcap '0x4444' | expect "the new vpcd answers" 'xid 0x4444.*'
finish

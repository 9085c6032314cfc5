#!/usr/bin/env bash
# Netns lab, real packets and real DHCP clients: examples/web-tier.json on
# host-a with vpcd (stage services, vpcd's packet-in controller).  A VM
# namespace with no address runs busybox udhcpc and gets its address,
# router, DNS server, domain and MTU, then pings the router and resolves
# another ENI's private hostname through the DNS server DHCP gave it;
# dhclient does the same and pings a VM by name; a VM that spoofs another
# ENI's MAC gets no lease; a VM flooding DISCOVERs (raw socket) is
# rate-limited, counted in /metrics, while the other VM still gets its
# lease.
. "$(dirname "$0")/lab.sh"
. "$TOP/tests/vpcd-lib.sh"
EX=$TOP/examples/web-tier.json
PKT=$TOP/tests/dhcp-packet.py
lab_require
command -v busybox >/dev/null || skip "no busybox (udhcpc)"

lab_host host-a 192.168.100.1
lab_host host-b 192.168.100.2
lab_vm host-a web-a    eni-web-a    02:00:00:10:01:0a 10.10.1.10/24 10.10.1.1
lab_vm host-a client-a eni-client-a 02:00:00:10:01:14 10.10.1.20/24 10.10.1.1

# unconfigure VM: no address, no route, MTU 1500 (DHCP must set 1450).
unconfigure() {
    lab_in "$1" ip addr flush dev eth0
    lab_in "$1" ip route flush dev eth0 2>/dev/null
    lab_in "$1" ip link set eth0 mtu 1500
}
# The VMs' /etc/resolv.conf: /etc/netns/NS/resolv.conf, which 'ip netns
# exec' mounts over /etc/resolv.conf (the namespaces share the file
# system); the directories are removed at exit.
NETNS_ETC=()
dhcp_cleanup() {
    local d
    lab_cleanup
    for d in "${NETNS_ETC[@]}"; do rm -rf "$d"; done
}
trap dhcp_cleanup EXIT
trap 'dhcp_cleanup; exit 130' INT TERM
for vm in web-a client-a; do
    mkdir -p "/etc/netns/$(lab_ns $vm)" && NETNS_ETC+=("/etc/netns/$(lab_ns $vm)")
done
# udhcpc's script: records what the server said and configures eth0 and
# the VM's resolv.conf from it, as a distribution's script does.
cat > "$TEST_DIR/udhcpc.script" <<'SH'
#!/bin/sh
case "$1" in
bound|renew)
    echo "ip=$ip mask=$mask router=$router dns=$dns domain=$domain mtu=$mtu lease=$lease hostname=$hostname" > "$LEASE_FILE"
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    ip route add default via "$router" dev "$interface"
    { for s in $dns; do echo "nameserver $s"; done
      echo "search $domain"; echo "options timeout:2 attempts:1"; } > "$RESOLV_FILE"
    ;;
esac
exit 0
SH
chmod +x "$TEST_DIR/udhcpc.script"
# udhcpc VM [TRIES]: a real DHCP exchange; the lease lands in
# $TEST_DIR/VM.lease.
udhcpc() {
    rm -f "$TEST_DIR/$1.lease"
    lab_in "$1" env LEASE_FILE="$TEST_DIR/$1.lease" \
        RESOLV_FILE="/etc/netns/$(lab_ns "$1")/resolv.conf" busybox udhcpc -i eth0 \
        -f -q -n -t "${2:-5}" -T 1 -A 1 -s "$TEST_DIR/udhcpc.script" \
        > "$TEST_DIR/$1.udhcpc.log" 2>&1
}
lease() { cat "$TEST_DIR/$1.lease" 2>/dev/null; }
metric() { vpcd_http host-a GET /metrics >/dev/null; awk -v m="$1" '$1 == m { print $2 }' <<<"$VPCD_BODY"; }

vpcd_start host-a "$(lab_ns host-a)" --intents="$EX"
vpcd_expect_wait "vpcd installs the web tier" host-a '.in_sync and .version == 1'
vpcd_expect_wait "ovs-vswitchd is connected to vpcd's packet-in socket" host-a '.services.connected'

echo "udhcpc"
unconfigure web-a
udhcpc web-a && pass "udhcpc on web-a (no address) gets a lease" \
    || { fail "udhcpc on web-a gets no lease"; cat "$TEST_DIR/web-a.udhcpc.log"; }
lease web-a | expect "...its address and mask" 'ip=10\.10\.1\.10 mask=24 '
lease web-a | expect "...the router" 'router=10\.10\.1\.1 '
lease web-a | expect "...the VPC resolver" 'dns=10\.10\.0\.2 '
lease web-a | expect "...the domain" 'domain=az-1\.compute\.internal '
lease web-a | expect "...the MTU" 'mtu=1450 '
lease web-a | expect "...its private hostname" 'hostname=ip-10-10-1-10$'
lab_in web-a ip -o addr show dev eth0 | expect "web-a's eth0 holds 10.10.1.10/24" 'inet 10\.10\.1\.10/24'
lab_in web-a ip link show dev eth0 | expect "web-a's eth0 has MTU 1450" 'mtu 1450 '
lab_ping web-a 10.10.1.1 | expect "web-a pings its router with the leased address" ' 0% packet loss'
# The first probe may wait for both sides' ARP (web-a's address is new).
lab_in client-a ping -n -c 1 -W 1 10.10.1.10 >/dev/null 2>&1
lab_ping client-a 10.10.1.10 | expect "client-a (static) pings web-a at its leased address" ' 0% packet loss'
lab_in web-a getent hosts ip-10-10-1-20 | expect "web-a resolves client-a's private hostname by DHCP's DNS server and search domain" '^10\.10\.1\.20 +ip-10-10-1-20\.az-1\.compute\.internal'

if command -v dhclient >/dev/null; then
    echo "dhclient"
    unconfigure client-a
    # dhclient gives its script a clean environment: the lease file's
    # name is written into the script.
    cat > "$TEST_DIR/dhclient.script" <<SH
#!/bin/sh
LEASE_FILE=$TEST_DIR/client-a.lease
RESOLV_FILE=/etc/netns/$(lab_ns client-a)/resolv.conf
SH
    cat >> "$TEST_DIR/dhclient.script" <<'SH'
case "$reason" in
BOUND|RENEW|REBOOT)
    echo "ip=$new_ip_address mask=$new_subnet_mask router=$new_routers dns=$new_domain_name_servers domain=$new_domain_name mtu=$new_interface_mtu" > "$LEASE_FILE"
    ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"
    ip link set "$interface" mtu "$new_interface_mtu"
    ip route add default via "$new_routers" dev "$interface"
    { for s in $new_domain_name_servers; do echo "nameserver $s"; done
      echo "search $new_domain_name"; echo "options timeout:2 attempts:1"; } > "$RESOLV_FILE"
    ;;
esac
exit 0
SH
    chmod +x "$TEST_DIR/dhclient.script"
    rm -f "$TEST_DIR/client-a.lease"
    lab_in client-a timeout 30 dhclient -1 -v -sf "$TEST_DIR/dhclient.script" \
        -lf "$TEST_DIR/client-a.leases" -pf "$TEST_DIR/dhclient.pid" \
        eth0 > "$TEST_DIR/dhclient.log" 2>&1
    lease client-a | expect "dhclient on client-a gets its address, router, DNS and MTU" \
        'ip=10\.10\.1\.20 mask=255\.255\.255\.0 router=10\.10\.1\.1 dns=10\.10\.0\.2 domain=az-1\.compute\.internal mtu=1450'
    [ -s "$TEST_DIR/dhclient.pid" ] && kill "$(cat "$TEST_DIR/dhclient.pid")" 2>/dev/null
    lab_in client-a ping -n -c 1 -W 1 10.10.1.10 >/dev/null 2>&1
    lab_ping client-a 10.10.1.10 | expect "client-a pings web-a with dhclient's lease" ' 0% packet loss'
    lab_ping client-a ip-10-10-1-10 | expect "...and by its private hostname, through the resolver DHCP named" ' 0% packet loss'
fi

echo "A VM with another ENI's MAC"
unconfigure client-a
lab_in client-a ip link set eth0 address 02:00:00:10:01:0a
drops0=$(vpcd_status host-a .stage_drops.port_sec 2>/dev/null)
udhcpc client-a 3 && fail "client-a, with web-a's MAC, got a lease: $(lease client-a)" \
    || pass "client-a with web-a's MAC gets no lease"
[ -z "$(lease client-a)" ] && pass "...and no answer reached it" || fail "client-a got: $(lease client-a)"
lab_in client-a ip link set eth0 address 02:00:00:10:01:14

echo "A flood of DISCOVERs from client-a"
rate0=$(metric 'vpcd_services_dropped_total{service="dhcp",reason="rate_limit"}')
unconfigure web-a
lab_bg client-a python3 "$PKT" --send eth0 20000 1 02:00:00:10:01:14
flood_pid=$LAB_LAST_PID
udhcpc web-a 10 && pass "web-a gets its lease during client-a's flood" \
    || { fail "web-a gets no lease during the flood"; cat "$TEST_DIR/web-a.udhcpc.log"; }
lease web-a | expect "...its address" 'ip=10\.10\.1\.10 '
for i in $(seq 100); do kill -0 "$flood_pid" 2>/dev/null || break; sleep 0.1; done
rate1=$(metric 'vpcd_services_dropped_total{service="dhcp",reason="rate_limit"}')
[ "$rate1" -gt "$rate0" ] && pass "vpcd dropped client-a's excess (rate_limit $rate0 -> $rate1)" \
    || fail "no rate-limit drop counted ($rate0 -> $rate1)"
offers=$(metric 'vpcd_services_dhcp_replies_total{type="OFFER"}')
[ "$offers" -lt 2000 ] && pass "vpcd answered only part of the 20,000 DISCOVERs ($offers offers in all)" \
    || fail "vpcd answered $offers DISCOVERs"
echo "  rate_limit drops: $rate0 -> $rate1, offers: $offers"
finish

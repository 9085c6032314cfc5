#!/usr/bin/env bash
# Netns lab, real packets: a VM's first boot, the way cloud-init does it,
# on one host running vpcd with its host services and --metadata.  The VM
# starts with no address: busybox udhcpc gets its lease (its script applies
# address, router, DNS servers into the VM's resolv.conf, and MTU); then,
# with only what DHCP gave it, curl fetches its instance-id, local-ipv4,
# local-hostname and user-data over IMDSv2 (tokens required on its ENI),
# and glibc resolves another ENI's private hostname and declared name
# through the resolver DHCP named, and pings that ENI by name.  Every
# answer is compared with the intents document, not merely found.
. "$(dirname "$0")/lab.sh"
. "$TOP/tests/vpcd-lib.sh"
lab_require
command -v busybox >/dev/null || skip "no busybox (udhcpc)"
command -v curl >/dev/null || skip "no curl"
MD=http://169.254.169.254
DOC=$TEST_DIR/boot.json
cat > "$DOC" <<'EOF'
{
  "hosts": [ { "id": "host-a", "underlay_ip": "192.168.100.1" },
             { "id": "host-b", "underlay_ip": "192.168.100.2" } ],
  "vpcs": [ { "id": "vpc-a", "cidr_blocks": ["10.10.0.0/16"], "vni": 1010 } ],
  "security_groups": [ { "id": "sg-a", "vpc": "vpc-a",
      "ingress": [ { "protocol": "-1", "cidr": "10.10.0.0/16" } ],
      "egress": [ { "protocol": "-1", "cidr": "0.0.0.0/0" } ] } ],
  "subnets": [ { "id": "subnet-a", "vpc": "vpc-a", "cidr": "10.10.1.0/24",
      "availability_zone": "eu-west-1a" } ],
  "enis": [
    { "id": "eni-vm", "subnet": "subnet-a", "host": "host-a",
      "mac": "02:00:00:10:01:0a", "private_ip": "10.10.1.10",
      "security_groups": ["sg-a"], "instance_id": "i-0feedc0ffee123456",
      "user_data": "#cloud-config\nhostname: first-boot\n",
      "metadata_options": { "http_tokens": "required" } },
    { "id": "eni-db", "subnet": "subnet-a", "host": "host-a",
      "mac": "02:00:00:10:01:0b", "private_ip": "10.10.1.11",
      "security_groups": ["sg-a"], "dns_names": ["db.corp.example"] } ]
}
EOF
# What the checks compare with: the intents, not the VM's own view.
IP=$(jq -r '.enis[0].private_ip' "$DOC")
IID=$(jq -r '.enis[0].instance_id' "$DOC")
DB_IP=$(jq -r '.enis[1].private_ip' "$DOC")

lab_host host-a 192.168.100.1
# host-b has no VM, but is the hint of host-a's vpc_encap (docs/ovs-ext.md):
# in the action mode even same-host traffic needs its neighbour (lab_warm).
lab_host host-b 192.168.100.2
lab_vm host-a vm eni-vm 02:00:00:10:01:0a 10.10.1.10/24 10.10.1.1
lab_vm host-a db eni-db 02:00:00:10:01:0b 10.10.1.11/24 10.10.1.1
lab_metadata_port host-a
lab_warm
# The VM boots unconfigured: no address, no route, MTU 1500.
lab_in vm ip addr flush dev eth0
lab_in vm ip route flush dev eth0 2>/dev/null
lab_in vm ip link set eth0 mtu 1500
# Its /etc/resolv.conf is /etc/netns/NS/resolv.conf ('ip netns exec' mounts
# it), written by the DHCP script only; removed at exit.
ETC=/etc/netns/$(lab_ns vm)
boot_cleanup() { lab_cleanup; rm -rf "$ETC"; }
trap boot_cleanup EXIT
trap 'boot_cleanup; exit 130' INT TERM
mkdir -p "$ETC"
cat > "$TEST_DIR/udhcpc.script" <<'SH'
#!/bin/sh
[ "$1" = bound ] || exit 0
echo "ip=$ip mask=$mask router=$router dns='$dns' domain=$domain mtu=$mtu hostname=$hostname" > "$LEASE"
ip addr add "$ip/$mask" dev "$interface"
[ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
for r in $router; do ip route add default via "$r" dev "$interface"; break; done
{ for s in $dns; do echo "nameserver $s"; done
  [ -n "$domain" ] && echo "search $domain"
  echo "options timeout:2 attempts:1"; } > "$RESOLV"
SH
chmod +x "$TEST_DIR/udhcpc.script"

vpcd_start host-a "$(lab_ns host-a)" --intents="$DOC" \
    --metadata=169.254.169.254:80
vpcd_expect_wait "vpcd installs the document" host-a \
    '.in_sync and .version == 1'
vpcd_expect_wait "ovs-vswitchd is connected to vpcd's packet-in socket" \
    host-a '.services.connected'

echo "DHCP"
lab_in vm env LEASE="$TEST_DIR/lease" RESOLV="$ETC/resolv.conf" \
    busybox udhcpc -i eth0 -f -q -n -t 5 -T 1 -A 1 \
    -s "$TEST_DIR/udhcpc.script" > "$TEST_DIR/udhcpc.log" 2>&1 \
    && pass "udhcpc on the VM (no address) gets a lease" \
    || { fail "udhcpc gets no lease"; cat "$TEST_DIR/udhcpc.log"; }
ip= mask= router= dns= domain= mtu= hostname=
[ -s "$TEST_DIR/lease" ] && . "$TEST_DIR/lease"
[ "$ip" = "$IP" ] && pass "the leased address is the ENI's private_ip ($IP)" \
    || fail "leased address '$ip', intents say $IP"
lab_in vm ip -o addr show dev eth0 \
    | expect "eth0 holds it, /$mask from the subnet" "inet ${IP//./\\.}/24 "
lab_in vm ip route show default | expect "default route via the router" \
    '^default via 10\.10\.1\.1 dev eth0'
lab_in vm ip link show dev eth0 | expect "eth0 has DHCP's MTU 1450" 'mtu 1450 '
expect "resolv.conf names the VPC resolver DHCP gave" \
    '^nameserver 10\.10\.0\.2$' < "$ETC/resolv.conf"

echo "Instance metadata (IMDSv2) with the leased configuration"
# md PATH: GET with the token; prints "CODE BODY" (CODE 000: no answer).
md() {
    local out
    out=$(lab_in vm curl -s -m 3 -w '\n%{http_code}' \
        -H "X-aws-ec2-metadata-token: $TOKEN" "$MD/latest/$1" 2>/dev/null)
    printf '%s %s\n' "${out##*$'\n'}" "${out%$'\n'*}"
}
TOKEN=$(lab_in vm curl -s -m 3 -X PUT \
    -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$MD/latest/api/token")
[ ${#TOKEN} -ge 32 ] && pass "PUT api/token: a token (${#TOKEN} characters)" \
    || fail "no token: '$TOKEN'"
md meta-data/instance-id \
    | expect "instance-id is the intents' $IID" "^200 $IID\$"
md meta-data/local-ipv4 | expect "local-ipv4 is the leased address" \
    "^200 ${ip//./\\.}\$"
# DHCP sends the short hostname (option 12) and the domain (option 15);
# the metadata service the full name.
if [ -n "$hostname" ]; then want=$hostname.$domain
else want=ip-${IP//./-}.$domain; fi
[ "$want" = ip-10-10-1-10.eu-west-1.compute.internal ] \
    && pass "DHCP's hostname and domain: $want" \
    || fail "DHCP's hostname '$hostname', domain '$domain'"
md meta-data/local-hostname | expect "local-hostname is DHCP's" \
    "^200 ${want//./\\.}\$"
lab_in vm curl -s -m 3 -H "X-aws-ec2-metadata-token: $TOKEN" \
    "$MD/latest/user-data" > "$TEST_DIR/user-data"
jq -j '.enis[0].user_data' "$DOC" | cmp -s - "$TEST_DIR/user-data" \
    && pass "user-data is the intents' (byte for byte)" \
    || fail "user-data: '$(cat "$TEST_DIR/user-data")'"
lab_in vm curl -s -m 3 -o /dev/null -w '%{http_code}\n' \
    "$MD/latest/meta-data/instance-id" \
    | expect "without the token: 401 (http_tokens required)" '^401$'

echo "Names, through the resolver DHCP named"
lab_in vm getent hosts ip-10-10-1-11 \
    | expect "the other ENI's private hostname (search domain)" \
    "^${DB_IP//./\\.} +ip-10-10-1-11\\.eu-west-1\\.compute\\.internal"
lab_in vm getent hosts db.corp.example | expect "its declared dns_names name" \
    "^${DB_IP//./\\.} +db\\.corp\\.example"
lab_in vm ping -n -c 1 -W 1 ip-10-10-1-11 >/dev/null 2>&1   # ARP both ways
lab_ping vm ip-10-10-1-11 > "$TEST_DIR/ping"
expect "the VM pings it by name ..." ' 0% packet loss' < "$TEST_DIR/ping"
expect "... at its private_ip" "^PING ip-10-10-1-11[^ ]* \\(${DB_IP//./\\.}\\)" \
    < "$TEST_DIR/ping"

if [ "$FAILS" -ne 0 ]; then
    lab_dump host-a
    tail -20 "${OVS_DIR[host-a]}/vpcd.log"
fi
finish

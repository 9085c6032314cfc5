#!/usr/bin/env bash
# Netns lab, real packets: the VPC resolver (docs/vpcd.md, "VPC resolver")
# answering real clients (dig, and ping through glibc's resolver) in VM
# namespaces, through the switch's packet-in path into vpcd.
#
#   vpc-a 10.10.0.0/16 (eu-west-1.compute.internal): va1 (eni-a1,
#         10.10.1.10) on host-a, va2 (eni-a2, 10.10.1.11, dns_names
#         db.corp.example) on host-b
#   vpc-b 10.20.0.0/16 (the same domain): vb1 (eni-b1, 10.20.1.10) on
#         host-a
#
# Each host runs vpcd; host-a's has an upstream resolver (a small Python
# responder on 127.0.0.1:5353 inside host-a's netns that knows one name,
# www.example.test), host-b's has none.  Each VM's /etc/resolv.conf
# (/etc/netns/NS/resolv.conf, which 'ip netns exec' mounts) names its
# subnet's +2 address and the domain.
#
# Needs the packet-in controller (pinctrl) and the SERVICES stage of
# issue 14: skipped without them.
. "$(dirname "$0")/lab.sh"
. "$TOP/tests/vpcd-lib.sh"
lab_require
command -v dig >/dev/null || skip "no dig (bind9-dnsutils)"
command -v python3 >/dev/null || skip "no python3"
grep -q '^PL_STAGE(SERVICES' "$TOP/pipeline/stages.def" \
    || skip "no SERVICES stage: the resolver is not reachable from VMs yet"

DOMAIN=eu-west-1.compute.internal
DOC=$TEST_DIR/dns.json
cat > "$DOC" <<'EOF'
{
  "hosts": [ { "id": "host-a", "underlay_ip": "192.168.100.1" },
             { "id": "host-b", "underlay_ip": "192.168.100.2" } ],
  "vpcs": [ { "id": "vpc-a", "cidr_blocks": ["10.10.0.0/16"], "vni": 1010 },
            { "id": "vpc-b", "cidr_blocks": ["10.20.0.0/16"], "vni": 1020 } ],
  "security_groups": [
    { "id": "sg-a", "vpc": "vpc-a",
      "ingress": [ { "protocol": "-1", "cidr": "10.10.0.0/16" } ],
      "egress": [ { "protocol": "-1", "cidr": "0.0.0.0/0" } ] },
    { "id": "sg-b", "vpc": "vpc-b",
      "ingress": [ { "protocol": "-1", "cidr": "10.20.0.0/16" } ],
      "egress": [ { "protocol": "-1", "cidr": "0.0.0.0/0" } ] } ],
  "subnets": [
    { "id": "subnet-a", "vpc": "vpc-a", "cidr": "10.10.1.0/24",
      "availability_zone": "eu-west-1a" },
    { "id": "subnet-b", "vpc": "vpc-b", "cidr": "10.20.1.0/24",
      "availability_zone": "eu-west-1a" } ],
  "enis": [
    { "id": "eni-a1", "subnet": "subnet-a", "host": "host-a",
      "mac": "02:00:00:10:01:0a", "private_ip": "10.10.1.10",
      "security_groups": ["sg-a"] },
    { "id": "eni-a2", "subnet": "subnet-a", "host": "host-b",
      "mac": "02:00:00:10:01:0b", "private_ip": "10.10.1.11",
      "security_groups": ["sg-a"], "dns_names": ["db.corp.example"] },
    { "id": "eni-b1", "subnet": "subnet-b", "host": "host-a",
      "mac": "02:00:00:20:01:0a", "private_ip": "10.20.1.10",
      "security_groups": ["sg-b"] } ]
}
EOF

# /etc/netns/NS/ directories this test made, removed at exit.
NETNS_ETC=()
dns_cleanup() {
    local d
    lab_cleanup
    for d in "${NETNS_ETC[@]}"; do rm -rf "$d"; done
}
trap dns_cleanup EXIT
trap 'dns_cleanup; exit 130' INT TERM

# resolv_conf VM NAMESERVER: VM's /etc/resolv.conf.
resolv_conf() {
    local d=/etc/netns/$(lab_ns "$1")
    mkdir -p "$d" && NETNS_ETC+=("$d")
    printf 'nameserver %s\nsearch %s\noptions timeout:2 attempts:1\n' \
        "$2" "$DOMAIN" > "$d/resolv.conf"
}

lab_host host-a 192.168.100.1
lab_host host-b 192.168.100.2
#      host   vm   eni    mac               ip             router
lab_vm host-a va1 eni-a1 02:00:00:10:01:0a 10.10.1.10/24 10.10.1.1
lab_vm host-b va2 eni-a2 02:00:00:10:01:0b 10.10.1.11/24 10.10.1.1
lab_vm host-a vb1 eni-b1 02:00:00:20:01:0a 10.20.1.10/24 10.20.1.1
resolv_conf va1 10.10.1.2
resolv_conf va2 10.10.1.2
resolv_conf vb1 10.20.1.2
lab_warm

echo "The upstream resolver in host-a's netns (127.0.0.1:5353)"
UP_LOG=$TEST_DIR/upstream.log
cat > "$TEST_DIR/upstream.py" <<'EOF'
# A tiny upstream: A 198.51.100.7 for www.example.test, NXDOMAIN for the
# rest; every question's name is appended to the log file (argv[1]).
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5353))
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 12:
        continue
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    qend = i + 5
    name = ".".join(labels).lower()
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    with open(sys.argv[1], "a") as f:
        f.write("%s %d\n" % (name, qtype))
    flags = 0x8180 | (0 if name == "www.example.test" else 3)
    an = 1 if name == "www.example.test" and qtype == 1 else 0
    r = q[:2] + struct.pack("!HHHHH", flags, 1, an, 0, 0) + q[12:qend]
    if an:
        r += struct.pack("!HHHIH4B", 0xc00c, 1, 1, 30, 4, 198, 51, 100, 7)
    s.sendto(r, peer)
EOF
: > "$UP_LOG"
lab_bg host-a python3 "$TEST_DIR/upstream.py" "$UP_LOG"
for i in $(seq 40); do
    lab_in host-a ss -Hlun 'sport = :5353' | grep -q . && break
    sleep 0.05
done
lab_in host-a ss -Hlun 'sport = :5353' | expect "the upstream listens" '5353'

echo "vpcd on both hosts (host-a with the upstream, host-b without)"
vpcd_start host-a "$(lab_ns host-a)" --dns-upstream=127.0.0.1:5353
vpcd_start host-b "$(lab_ns host-b)"
for h in host-a host-b; do
    vpcd_http "$h" PUT /v1/intents "$DOC" >/dev/null
    [ "$VPCD_STATUS" = 200 ] && pass "$h: PUT the document (200)" \
        || fail "$h: PUT: $VPCD_STATUS $VPCD_BODY"
    vpcd_expect_wait "$h converges" "$h" '.in_sync and .version == 1'
done
lab_ping va1 10.10.1.11 | expect "va1 pings va2 by address" ' 0% packet loss'

# q VM SERVER DIG-ARGS...: dig's answer section and status line.
q() {
    lab_in "$1" dig +time=2 +tries=1 +noall +answer +comments "@$2" "${@:3}" \
        2>&1 | grep -E 'status:|IN'
}

echo "Names of the VPC"
q va1 10.10.1.2 ip-10-10-1-11.$DOMAIN A \
    | expect "va1 resolves va2's private hostname at its subnet's +2" \
      "ip-10-10-1-11\\.$DOMAIN\\.[[:space:]]+60[[:space:]]+IN[[:space:]]+A[[:space:]]+10\\.10\\.1\\.11"
q va1 10.10.0.2 ip-10-10-1-11.$DOMAIN A \
    | expect "... at the VPC's base +2" 'A[[:space:]]+10\.10\.1\.11'
q va1 169.254.169.253 IP-10-10-1-11.EU-West-1.compute.internal A \
    | expect "... at 169.254.169.253, in any case" 'A[[:space:]]+10\.10\.1\.11'
q va1 10.10.1.2 -x 10.10.1.11 \
    | expect "va1 gets va2's PTR" "PTR[[:space:]]+ip-10-10-1-11\\.$DOMAIN\\."
q va1 10.10.1.2 db.corp.example A \
    | expect "va1 resolves va2's declared name" 'A[[:space:]]+10\.10\.1\.11'
q va2 10.10.1.2 ip-10-10-1-10.$DOMAIN A \
    | expect "va2 (host-b) resolves va1 through host-b's vpcd" 'A[[:space:]]+10\.10\.1\.10'
q va1 10.10.1.2 ip-10-10-1-99.$DOMAIN A \
    | expect "an unknown name of the VPC's domain: NXDOMAIN" 'status: NXDOMAIN'
q va1 10.10.1.2 ip-10-10-1-11.$DOMAIN AAAA > "$TEST_DIR/aaaa"
expect "AAAA of a known name: NOERROR ..." 'status: NOERROR' < "$TEST_DIR/aaaa"
expect_not "... without data" 'IN[[:space:]]+AAAA' < "$TEST_DIR/aaaa"
lab_in va1 getent hosts ip-10-10-1-11 \
    | expect "glibc (search domain) resolves the short name" '^10\.10\.1\.11 '
lab_in va1 ping -n -c 3 -i 0.2 -W 1 ip-10-10-1-11 2>&1 \
    | expect "va1 pings va2 by name" ' 0% packet loss'

echo "Another VPC cannot see them"
q vb1 10.20.1.2 ip-10-10-1-11.$DOMAIN A \
    | expect "vb1 (vpc-b) gets NXDOMAIN for va2's hostname" 'status: NXDOMAIN'
q vb1 10.20.1.2 -x 10.10.1.11 \
    | expect_not "vb1 gets no PTR of va2's address" 'PTR[[:space:]]+ip-10-10'
q vb1 10.20.1.2 db.corp.example A \
    | expect "vb1: vpc-a's declared name is the upstream's (NXDOMAIN there)" 'status: NXDOMAIN'
expect "... which the upstream was asked" '^db\.corp\.example 1$' < "$UP_LOG"
q vb1 10.20.1.2 ip-10-20-1-10.$DOMAIN A \
    | expect "vb1 resolves its own hostname" 'A[[:space:]]+10\.20\.1\.10'

echo "Names outside the VPC"
q va1 10.10.1.2 www.example.test A \
    | expect "va1: www.example.test through host-a's upstream" 'A[[:space:]]+198\.51\.100\.7'
expect "... which the upstream was asked" '^www\.example\.test 1$' < "$UP_LOG"
expect_not "the upstream never saw a name of the VPCs' domain" 'compute\.internal' < "$UP_LOG"
q va2 10.10.1.2 www.example.test A \
    | expect "va2: host-b has no upstream: REFUSED" 'status: REFUSED'

echo "Metrics"
vpcd_http host-a GET /metrics >/dev/null
expect "host-a counts local answers" 'vpcd_dns_queries_total\{result="answer"\} [1-9]' <<<"$VPCD_BODY"
expect "host-a counts forwarded queries" 'vpcd_dns_forwarded_total [1-9]' <<<"$VPCD_BODY"
vpcd_http host-b GET /metrics >/dev/null
expect "host-b counts the refusal" 'vpcd_dns_queries_total\{result="refused"\} [1-9]' <<<"$VPCD_BODY"

if [ "$FAILS" -ne 0 ]; then lab_dump host-a; lab_dump host-b; fi
finish

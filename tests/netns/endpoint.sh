#!/usr/bin/env bash
# Netns lab, real packets: the S3 gateway endpoint of examples/edge.json
# (vpce-s3: prefix list pl-s3 = 52.216.0.0/15, allowed_subnets
# [subnet-private]; rtb-private routes pl-s3 to it; the edge's "services"
# put S3 at underlay 192.168.100.200).  host-a (eni-web, subnet-public),
# host-b (eni-app, subnet-private) and edge-1 are lab hosts; "svc" is the
# S3 service's front end on the same underlay, 192.168.100.200: its own
# userspace OVS whose br-int terminates Geneve with vpce-s3's VNI (0xf00003)
# and hands the inner packet to the "s3" server namespace (52.216.1.1/15),
# and sends the server's replies back to the edge with the same VNI.  The
# edge also has an uplink to an "inet" namespace, the internet gateway's
# next hop.
#
# Checks: eni-app -> 52.216.1.1:80 exchanges data both ways through the
# endpoint, the server sees the private source 10.30.2.10, the service's
# underlay carries Geneve with VNI 0xf00003 both ways; eni-web (no route to
# the endpoint) goes to the internet gateway instead and the server sees
# nothing; a Geneve frame with the endpoint's VNI from host-a with source
# eni-web (legitimately on host-a) is refused by the endpoint policy at the
# edge, while the same injection from host-b with eni-app's source passes.
. "$(dirname "$0")/lab.sh"
. "$(dirname "$0")/../sandbox/helpers.sh"     # frame_hex
EX=$TOP/examples/edge.json
VPCE=$((0xf00003))              # 0xf00000 + vpce-s3's position (igw, nat, dx, vpce)
EDGE_IP=192.168.100.254
SVC_IP=192.168.100.200          # edge-1's "services": {"s3": ...}
S3_IP=52.216.1.1                # in pl-s3
S3_MAC=02:53:00:00:00:01        # the S3 server's eth0
SVC_MAC=02:53:00:00:00:fe       # its next hop, the service front end's br-int
NEXTHOP_MAC=02:99:00:00:00:01   # uplink_gateway_mac: the internet router
lab_require
command -v tcpdump >/dev/null || skip "no tcpdump"
command -v python3 >/dev/null || skip "no python3"

lab_host host-a 192.168.100.1
lab_host host-b 192.168.100.2
lab_host edge-1 $EDGE_IP
lab_host svc $SVC_IP            # not in the intent: vpcctl is never run on it
#      host   vm   eni      mac (from the intent) ip            router
lab_vm host-a web  eni-web  02:00:00:30:01:0a 10.30.1.10/24 10.30.1.1
lab_vm host-b app  eni-app  02:00:00:30:02:0a 10.30.2.10/24 10.30.2.1
# The S3 server, a VM-like port of svc's br-int (no ENI: svc has no VPC
# pipeline, only the flows below).
lab_vm svc s3 none $S3_MAC $S3_IP/15 52.216.0.1
S3_PORT=vp$LAB_NPORT
lab_in s3 ip neigh replace 52.216.0.1 lladdr $SVC_MAC dev eth0 nud permanent

# The internet: the edge's uplink port up0 <-> eth0 of "inet" (next hop).
lab_node inet
lab_veth edge-1 up0 inet eth0
lab_in inet ip link set eth0 address $NEXTHOP_MAC
lab_in inet ip addr add 203.0.113.1/24 dev eth0
vsctl_on edge-1 add-port br-int up0 -- set interface up0 external_ids:vpc-edge-port=uplink

# The service front end: Geneve with the endpoint's VNI from the edge -> the
# server; the server's packets -> Geneve with the same VNI to the edge.
s3of=$(vsctl_on svc get Interface "$S3_PORT" ofport)
ofctl_on svc add-flows br-int - <<EOF
table=0,priority=10,in_port=1000,tun_id=$VPCE,tun_src=$EDGE_IP,ip,nw_dst=$S3_IP actions=set_field:$SVC_MAC->eth_src,set_field:$S3_MAC->eth_dst,output:$s3of
table=0,priority=10,in_port=$s3of,ip,nw_src=$S3_IP actions=set_field:$VPCE->tun_id,set_field:$EDGE_IP->tun_dst,output:1000
table=0,priority=0 actions=drop
EOF

lab_warm
for h in host-a host-b edge-1; do
    out=$(vpcctl_on "$h" apply "$EX" --host "$h" 2>&1)
    expect "apply edge.json on $h" ' [1-9][0-9]* added' <<<"$out"
done

# The S3 server: a one-shot TCP listener on 52.216.1.1:80 that answers a
# banner, records what it receives and (nc -v) the client's address.
echo S3-OK > "$TEST_DIR/s3.banner"
lab_bg s3 nc -n -v -N -l -p 80 < "$TEST_DIR/s3.banner" \
    > "$TEST_DIR/s3.in" 2> "$TEST_DIR/s3.log"
for _ in $(seq 40); do
    lab_in s3 ss -Hltn "sport = :80" | grep -q . && break; sleep 0.05
done
lab_capture s3 "$TEST_DIR/s3.txt" -i eth0 ip
S3CAP=$LAB_LAST_PID

echo "eni-web (subnet-public: no route to the endpoint, not allowed by its policy)"
lab_capture inet "$TEST_DIR/inet.txt" -i eth0 ip
CAP=$LAB_LAST_PID
expect_status "eni-web -> $S3_IP:80 does not connect" 1 \
    lab_in web nc -n -z -w 2 $S3_IP 80
lab_wait_file "$TEST_DIR/inet.txt" "> $S3_IP\\.80: Flags \\[S\\]"
lab_stop "$CAP"
expect "... its SYN goes to the internet gateway instead: the internet sees 203.0.113.10 > $S3_IP:80" \
    "203\\.0\\.113\\.10\\.[0-9]+ > 52\\.216\\.1\\.1\\.80: Flags \\[S\\]" < "$TEST_DIR/inet.txt"

echo "eni-app (subnet-private) -> S3 through the endpoint"
lab_capture svc "$TEST_DIR/svc-ul.txt" -i ul0 udp port 6081
CAP=$LAB_LAST_PID
got=$(echo S3-HELLO | lab_in app timeout 5 nc -n -N -w 3 $S3_IP 80 2>&1)
expect "eni-app -> $S3_IP:80: the server's banner comes back" '^S3-OK$' <<<"$got"
lab_wait_file "$TEST_DIR/s3.in" S3-HELLO
expect "... the client's data reaches the server" '^S3-HELLO$' < "$TEST_DIR/s3.in"
expect "... which sees the private source 10.30.2.10, unchanged" \
    'Connection received on 10\.30\.2\.10 ' < "$TEST_DIR/s3.log"
lab_wait_file "$TEST_DIR/svc-ul.txt" "52\\.216\\.1\\.1\\.80 > 10\\.30\\.2\\.10\\.[0-9]+: Flags \\[F"
lab_stop "$CAP"
expect "the service's underlay: the edge -> $SVC_IP, Geneve VNI 0xf00003, the private source inside" \
    "192\\.168\\.100\\.254\\.[0-9]+ > 192\\.168\\.100\\.200\\.6081: Geneve.*vni 0xf00003.*10\\.30\\.2\\.10\\.[0-9]+ > 52\\.216\\.1\\.1\\.80: " \
    < "$TEST_DIR/svc-ul.txt"
expect "... and the replies $SVC_IP -> the edge with the same VNI" \
    "192\\.168\\.100\\.200\\.[0-9]+ > 192\\.168\\.100\\.254\\.6081: Geneve.*vni 0xf00003.*52\\.216\\.1\\.1\\.80 > 10\\.30\\.2\\.10\\.[0-9]+: " \
    < "$TEST_DIR/svc-ul.txt"
expect_not "... no other Geneve on the service's underlay (only the edge, only that VNI)" . \
    awk '/Geneve/ && !/192\.168\.100\.(254|200)\.[0-9]+ > 192\.168\.100\.(200|254)\.6081: Geneve.* vni 0xf00003,/' \
    "$TEST_DIR/svc-ul.txt"

echo "The endpoint policy at the edge (Geneve with vpce-s3's VNI, injected on the hosts)"
# inject HOST SRC_MAC SRC_IP ICMP_ID: host HOST's br-int sends an ICMP echo
# request SRC_IP -> 52.216.1.1 to the edge in Geneve with the endpoint's VNI,
# as its route stage would (the packet-out bypasses the host's pipeline).
inject() {
    ofctl_on "$1" packet-out br-int "in_port=controller packet=$(frame_hex "$2" \
        02:76:70:00:0b:d6 "$3" $S3_IP 8 "$4") actions=set_field:$VPCE->tun_id,set_field:$EDGE_IP->tun_dst,output:1000"
}
lab_capture edge-1 "$TEST_DIR/edge-ul.txt" -i ul0 udp port 6081
CAP=$LAB_LAST_PID
inject host-b 02:00:00:30:02:0a 10.30.2.10 78
lab_wait_file "$TEST_DIR/s3.txt" "10\\.30\\.2\\.10 > 52\\.216\\.1\\.1: ICMP echo request, id 78"
inject host-a 02:00:00:30:01:0a 10.30.1.10 77
inject host-a 02:00:00:30:01:0a 10.30.1.10 77
lab_wait_file "$TEST_DIR/edge-ul.txt" "10\\.30\\.1\\.10 > 52\\.216\\.1\\.1: ICMP echo request, id 77"
sleep 1
lab_stop "$CAP"
lab_stop "$S3CAP"
expect "the injected frames from host-a reach the edge: Geneve VNI 0xf00003, 10.30.1.10 > $S3_IP" \
    "192\\.168\\.100\\.1\\.[0-9]+ > 192\\.168\\.100\\.254\\.6081: Geneve.*vni 0xf00003.*10\\.30\\.1\\.10 > 52\\.216\\.1\\.1: ICMP echo request, id 77" \
    < "$TEST_DIR/edge-ul.txt"
expect_not "... and the edge sends nothing from 10.30.1.10 on toward the service" \
    "> 192\\.168\\.100\\.200\\.6081: .*10\\.30\\.1\\.10 >" < "$TEST_DIR/edge-ul.txt"
expect "control: from host-b, source 10.30.2.10 (subnet-private), the server receives it" \
    '10\.30\.2\.10 > 52\.216\.1\.1: ICMP echo request, id 78' < "$TEST_DIR/s3.txt"
expect_not "from host-a, source 10.30.1.10 (eni-web, subnet-public): the server receives nothing, ever" \
    '10\.30\.1\.10' < "$TEST_DIR/s3.txt"
expect_not "... and nothing else from subnet-public or with the elastic IP" \
    '10\.30\.1\.[0-9]+ >|203\.0\.113\.' < "$TEST_DIR/s3.txt"
n=$(ofctl_on edge-1 dump-flows br-int "table=$(stage_table edge_out),reg6=$VPCE" 2>/dev/null \
    | sed -nE 's/.*n_packets=([0-9]+),.*nw_src=10\.30\.2\.0\/24.*/\1/p')
for _ in $(seq 30); do
    m=$(ofctl_on edge-1 dump-flows br-int "table=$(stage_table edge_out)" | grep 'priority=0 ' \
        | sed -nE 's/.*n_packets=([0-9]+),.*/\1/p')
    [ "${m:-0}" -ge 2 ] && break; sleep 0.1
done
[ "${m:-0}" -ge 2 ] && pass "edge_out's drop rule counted the refused frames from host-a ($m)" \
    || fail "edge_out's drop rule counted ${m:-?} packets (wanted >= 2)"
[ "${n:-0}" -ge 2 ] && pass "edge_out counted the allowed packets on vpce-s3's subnet-private rule (${n})" \
    || fail "edge_out's vpce-s3 rule counted ${n:-?} packets (wanted >= 2)"

if [ "$FAILS" -ne 0 ]; then
    lab_dump edge-1; lab_dump svc; lab_dump host-a; lab_dump host-b
fi
finish

#!/usr/bin/env bash
# Netns lab, real packets: ICMP errors through the edge (examples/edge.json).
# host-a (VM "web", eni-web, elastic IP 203.0.113.10), host-b (VM "app",
# eni-app, private subnet behind nat-shop 203.0.113.20) and edge-1, each a
# netns with its own userspace OVS.  Behind the edge's uplink, "inet" is a
# Linux router (203.0.113.1) to a server "far" (198.51.100.10) whose link
# has MTU 1200 on the router's side: a VM's full-size TCP segments (MSS
# 1410, its MTU 1450) get an ICMP "fragmentation needed" (mtu 1200) from
# the router, addressed to the elastic IP or the NAT gateway's address,
# with that public address in the embedded header.
#
# Checks, for the elastic IP and for the NAT gateway:
#   - the VM receives the ICMP error with both headers translated (its
#     private address outside and in the embedded header, never the public
#     one), captured with tcpdump in the VM's namespace;
#   - path-MTU discovery works: a 300 kB TCP transfer to "far" completes
#     and the VM's route cache holds mtu 1200;
#   - the other direction: a VM's own ICMP error (port unreachable for a
#     late UDP reply to a closed socket) leaves the edge with the public
#     address in its embedded header, captured on "far".
. "$(dirname "$0")/lab.sh"
EX=$TOP/examples/edge.json
lab_require
command -v tcpdump >/dev/null || { echo "SKIP: no tcpdump"; exit 77; }
PY=$(command -v python3) || { echo "SKIP: no python3"; exit 77; }

lab_host host-a 192.168.100.1
lab_host host-b 192.168.100.2
lab_host edge-1 192.168.100.254
lab_vm host-a web eni-web 02:00:00:30:01:0a 10.30.1.10/24 10.30.1.1
lab_vm host-b app eni-app 02:00:00:30:02:0a 10.30.2.10/24 10.30.2.1

# inet: the uplink's next hop and a router to far's network, whose link
# takes 1200 bytes on inet's side.
lab_node inet
lab_node far
lab_veth edge-1 up0 inet eth0
lab_veth inet f0 far eth0
lab_in inet ip link set eth0 address 02:99:00:00:00:01
lab_in inet ip addr add 203.0.113.1/24 dev eth0
lab_in inet ip addr add 198.51.100.1/24 dev f0
lab_in inet ip link set f0 mtu 1200
lab_in inet sysctl -qw net.ipv4.ip_forward=1
lab_in far ip addr add 198.51.100.10/24 dev eth0
lab_in far ip route add default via 198.51.100.1
vsctl_on edge-1 add-port br-int up0 \
    -- set interface up0 external_ids:vpc-edge-port=uplink
lab_warm
lab_apply "$EX"

# far: a UDP server on port 9 that answers each datagram 0.3 s late (by
# then the VM has closed its socket: the answer draws a port unreachable).
lab_bg far "$PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.10", 9))
while True:
    d, a = s.recvfrom(2048)
    time.sleep(0.3)
    s.sendto(b"late " + d, a)
'

# pmtu VM PRIVATE PUBLIC NAME PORT: the fragmentation-needed checks.
pmtu() {
    local vm=$1 priv=$2 pub=$3 name=$4 port=$5 cap got rx
    local qp=${priv//./\\.} qpub=${pub//./\\.}
    echo "$name: $vm ($priv, public $pub) -> far 198.51.100.10, MTU 1200 on the way"
    lab_in "$vm" ip route flush cache
    lab_capture "$vm" "$TEST_DIR/$vm-icmp.txt" -v -i eth0 icmp
    cap=$LAB_LAST_PID
    lab_bg far sh -c "exec nc -l -p $port > '$TEST_DIR/far-$port.in'"
    for _ in $(seq 40); do
        lab_in far ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.05
    done
    head -c 300000 /dev/zero \
        | lab_in "$vm" timeout 15 nc -N -w 10 198.51.100.10 "$port" >/dev/null 2>&1
    for _ in $(seq 30); do
        rx=$(stat -c %s "$TEST_DIR/far-$port.in" 2>/dev/null)
        [ "${rx:-0}" = 300000 ] && break; sleep 0.1
    done
    [ "${rx:-0}" = 300000 ] \
        && pass "$name: a 300 kB TCP transfer from $vm to far completes (path MTU 1200 found)" \
        || fail "$name: the TCP transfer from $vm to far stalled (${rx:-0} of 300000 bytes arrived)"
    lab_in "$vm" ip route get 198.51.100.10 \
        | expect "$name: $vm's route cache to far holds mtu 1200" 'mtu 1200'
    lab_wait_file "$TEST_DIR/$vm-icmp.txt" 'need to frag' 10
    lab_stop "$cap"
    expect "$name: $vm receives the router's fragmentation needed (mtu 1200) at its private address" \
        "> $qp: ICMP 198\\.51\\.100\\.10 unreachable - need to frag \\(mtu 1200\\)" \
        < "$TEST_DIR/$vm-icmp.txt"
    expect "... whose embedded header is $vm's segment from $priv to far" \
        "^ *$qp\\.[0-9]+ > 198\\.51\\.100\\.10\\.$port: " < "$TEST_DIR/$vm-icmp.txt"
    expect_not "... and never the public $pub, outside or embedded" "$qpub" \
        < "$TEST_DIR/$vm-icmp.txt"
}

# unreach VM PRIVATE PUBLIC NAME SPORT: the VM's own ICMP error, outbound.
unreach() {
    local vm=$1 priv=$2 pub=$3 name=$4 sport=$5 cap
    local qp=${priv//./\\.} qpub=${pub//./\\.}
    lab_capture far "$TEST_DIR/far-$vm.txt" -v -i eth0 icmp
    cap=$LAB_LAST_PID
    lab_in "$vm" "$PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$priv', $sport))
s.sendto(b'probe', ('198.51.100.10', 9))
s.close()
"
    lab_wait_file "$TEST_DIR/far-$vm.txt" 'port [0-9]+ unreachable' 20
    lab_stop "$cap"
    expect "$name: $vm's port unreachable for far's late UDP reply reaches far from $pub" \
        "> 198\\.51\\.100\\.10: ICMP $qpub udp port [0-9]+ unreachable" \
        < "$TEST_DIR/far-$vm.txt"
    expect "... its embedded header is far's datagram to $pub" \
        "^ *198\\.51\\.100\\.10\\.9 > $qpub\\.[0-9]+: " < "$TEST_DIR/far-$vm.txt"
    expect_not "... and never the private $priv" "$qp" < "$TEST_DIR/far-$vm.txt"
}

pmtu web 10.30.1.10 203.0.113.10 "elastic IP" 5001
pmtu app 10.30.2.10 203.0.113.20 "NAT gateway" 5002
unreach web 10.30.1.10 203.0.113.10 "elastic IP" 41000
unreach app 10.30.2.10 203.0.113.20 "NAT gateway" 41001

if [ "$FAILS" -ne 0 ]; then
    lab_dump edge-1
    echo "--- edge-1 conntrack:"; appctl_on edge-1 dpctl/dump-conntrack | sed 's/^/   /'
    for f in "$TEST_DIR"/*.txt; do echo "--- $f"; head -40 "$f"; done
fi
finish

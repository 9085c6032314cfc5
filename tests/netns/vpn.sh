#!/usr/bin/env bash
# Netns lab, real packets and real IPsec: examples/vpn.json.  host-a holds
# eni-app (VM "app"); edge-1 implements vgw-corp: its bridge hands
# VPN-bound traffic to its kernel through the internal port vpn0
# (pipeline/vpn.h), where strongSwan's charon (kernel-libipsec, config from
# 'vpcctl vpn-config') encrypts it toward the customer gateway over the WAN
# veth; a second charon in the customer gateway's namespace ("cgw") routes
# to the on-premises host ("onprem", 172.16.1.10).
#
#   app 10.40.1.10 -[host-a]= Geneve =[edge-1 br-int]- vpn0 169.254.0.2
#     edge-1 kernel: ipsec0 -- wan0 198.51.100.1 == wan0 198.51.100.2 (cgw)
#     cgw: ipsec0, lan0 172.16.1.1 -- eth0 172.16.1.10 (onprem)
#
# The edge's namespace is set up as 'vpcctl vpn-config' says (an address of
# the VPC on vpn0 for charon's routes, the VPC routed to the bridge, the
# on-premises prefixes unreachable unless IPsec is up: fail closed).  The
# cgw has a plain route back to the VPC, so a leak past IPsec would show as
# plain ICMP on the WAN.  Every charon is stopped by its pid file.
. "$(dirname "$0")/lab.sh"
EX=$TOP/examples/vpn.json
CHARON=${CHARON:-/usr/lib/ipsec/charon}
lab_require
if [ ! -x "$CHARON" ] || ! command -v swanctl >/dev/null; then
    skip "strongSwan (charon, swanctl) not installed (scripts/deps.sh)"
fi
command -v tcpdump >/dev/null || skip "no tcpdump"

VPN_DIRS=()
# vpn_charon NAME DIR: charon in NAME's netns with /run bound to DIR/run.
vpn_charon() {
    local name=$1 dir=$2 i
    mkdir -p "$dir/run"
    VPN_DIRS+=("$dir")
    cat >> "$dir/strongswan.conf" <<EOF2
# Added by the test: a log (charon otherwise logs to syslog only).
charon { filelog { test { path = $dir/charon.log
                          default = 1
                          ike = 2
                          time_format = %T } } }
EOF2
    ip netns exec "$(lab_ns "$name")" sh -c "mount --bind '$dir/run' /run && exec env STRONGSWAN_CONF='$dir/strongswan.conf' '$CHARON'" \
        >"$dir/charon.log" 2>&1 </dev/null &
    disown $!
    for i in $(seq 50); do
        [ -S "$dir/run/charon.vici" ] && return 0
        sleep 0.1
    done
    fail "charon in $name did not start (see $dir/charon.log)"
}
vpn_swanctl() {     # vpn_swanctl DIR ARGS...
    local dir=$1
    swanctl "${@:2}" --uri "unix://$dir/run/charon.vici"
}
vpn_cleanup() {     # SIGTERM each charon by its pid file; SIGKILL if it
    local d pid i pids=()    # has not exited after 3 s (the edge's charon
    for d in "${VPN_DIRS[@]}"; do   # can spin in kernel-libipsec's shutdown)
        pid=$(cat "$d/run/charon.pid" 2>/dev/null) || continue
        kill "$pid" 2>/dev/null && pids+=("$pid")
    done
    for pid in "${pids[@]}"; do
        for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null
            echo "  (charon $pid ignored SIGTERM for 3 s: killed)"
        fi
    done
    VPN_DIRS=()
    lab_cleanup
}
trap vpn_cleanup EXIT
trap 'vpn_cleanup; exit 130' INT TERM

# veth NS_A DEV_A NS_B DEV_B: a tracked veth pair.
veth() {
    ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
    LAB_VETHS+=("$1 $2")
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
}

lab_host host-a 192.168.100.1
lab_host edge-1 192.168.100.254
lab_vm host-a app eni-app 02:00:00:40:01:0a 10.40.1.10/24 10.40.1.1
EDGE=$(lab_ns edge-1) CGW=$(lab_ns cgw) ONPREM=$(lab_ns onprem)
lab_netns "$CGW"
lab_netns "$ONPREM"
for ns in "$CGW" "$ONPREM"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done

# The edge's VPN port: an internal port with the fixed kernel-side MAC; the
# VPC's prefixes are routed to the bridge through it.
vsctl_on edge-1 add-port br-int vpn0 -- set interface vpn0 type=internal \
    'mac="02:76:70:ee:ff:02"' external_ids:vpc-edge-port=vpn
for i in $(seq 30); do ip -n "$EDGE" link show vpn0 >/dev/null 2>&1 && break; sleep 0.1; done
ip -n "$EDGE" link set vpn0 address 02:76:70:ee:ff:02 up
ip -n "$EDGE" addr add 169.254.0.2/30 dev vpn0
ip -n "$EDGE" addr add 10.40.0.0/32 dev vpn0
ip -n "$EDGE" route add 10.40.0.0/16 via 169.254.0.1 dev vpn0
ip -n "$EDGE" route add unreachable 172.16.0.0/16
# The WAN, the customer gateway and the on-premises network.
veth "$EDGE" wan0 "$CGW" wan0
ip -n "$EDGE" addr add 198.51.100.1/24 dev wan0
ip -n "$CGW" addr add 198.51.100.2/24 dev wan0
veth "$CGW" lan0 "$ONPREM" eth0
ip -n "$CGW" addr add 172.16.1.1/24 dev lan0
ip -n "$ONPREM" addr add 172.16.1.10/24 dev eth0
ip -n "$ONPREM" route add default via 172.16.1.1
for ns in "$EDGE" "$CGW"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
        net.ipv4.conf.default.rp_filter=0
done
ip netns exec "$EDGE" sysctl -qw net.ipv4.conf.vpn0.rp_filter=0
ip -n "$CGW" route add 10.40.0.0/16 via 198.51.100.1          # leak bait

lab_warm
lab_apply "$EX"

echo "strongSwan configuration"
mkdir -p "$TEST_DIR/psk" "$TEST_DIR/edge-ipsec" "$TEST_DIR/cgw-ipsec"
PSK="vpn test key $$"
printf '%s\n' "$PSK" > "$TEST_DIR/psk/vgw-corp.psk"
out=$("$VPCCTL" vpn-config "$EX" --host edge-1 --psk-dir "$TEST_DIR/psk" "$TEST_DIR/edge-ipsec" 2>&1)
expect "vpcctl vpn-config writes the edge's strongswan.conf and swanctl.conf" 'wrote .*swanctl\.conf' <<<"$out"
expect "... local_ts = the VPC, remote_ts = the on-premises prefixes, remote = the customer gateway" \
    'local_ts = 10\.40\.0\.0/16.*remote_ts = 172\.16\.0\.0/16' < <(tr -d '\n' < "$TEST_DIR/edge-ipsec/swanctl.conf")
expect "... the key file is private" '^600$' < <(stat -c %a "$TEST_DIR/edge-ipsec/swanctl.conf")
cp "$TEST_DIR/edge-ipsec/strongswan.conf" "$TEST_DIR/cgw-ipsec/strongswan.conf"
cat > "$TEST_DIR/cgw-ipsec/swanctl.conf" <<EOF2
connections {
    edge {
        version = 2
        local_addrs = 198.51.100.2
        remote_addrs = 198.51.100.1
        proposals = aes256-sha256-modp3072
        local { auth = psk
                id = 198.51.100.2 }
        remote { auth = psk
                 id = vgw-corp }
        children { net { mode = tunnel
                         local_ts = 172.16.0.0/16
                         remote_ts = 10.40.0.0/16
                         esp_proposals = aes256-sha256 } }
    }
}
secrets { ike-edge { id-1 = 198.51.100.2
                     id-2 = vgw-corp
                     secret = "$PSK" } }
EOF2

lab_in app ping -n -c 1 -W 1 172.16.1.10 2>&1 \
    | expect "before IPsec is up, app cannot reach on-premises (fail closed)" ' 100% packet loss'

echo "IPsec"
lab_bg cgw tcpdump -i wan0 -nn -U -w "$TEST_DIR/wan.pcap" 2>/dev/null
TCPDUMP=$LAB_LAST_PID
for i in $(seq 30); do [ -s "$TEST_DIR/wan.pcap" ] && break; sleep 0.1; done
vpn_charon cgw "$TEST_DIR/cgw-ipsec"
vpn_swanctl "$TEST_DIR/cgw-ipsec" --load-all --file "$TEST_DIR/cgw-ipsec/swanctl.conf" \
    >"$TEST_DIR/cgw-ipsec/load.log" 2>&1 || fail "swanctl --load-all on cgw (see cgw-ipsec/load.log)"
vpn_charon edge-1 "$TEST_DIR/edge-ipsec"
vpn_swanctl "$TEST_DIR/edge-ipsec" --load-all --file "$TEST_DIR/edge-ipsec/swanctl.conf" \
    >"$TEST_DIR/edge-ipsec/load.log" 2>&1 || fail "swanctl --load-all on edge-1 (see edge-ipsec/load.log)"
for i in $(seq 100); do     # start_action = start: the edge initiates
    sas=$(vpn_swanctl "$TEST_DIR/edge-ipsec" --list-sas 2>&1)
    grep -q INSTALLED <<<"$sas" && ip -n "$EDGE" route show table 220 | grep -q ipsec0 && break
    sleep 0.1
done
expect "the edge's child SA vgw-corp is INSTALLED (ESP in UDP, AES-CBC-256)" \
    'vgw-corp: #[0-9]+, reqid [0-9]+, INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-256/HMAC_SHA2_256_128' <<<"$sas"
tr -s ' \n' ' ' <<<"$sas" | expect "... between the VPC and the on-premises prefixes" 'local 10\.40\.0\.0/16 remote 172\.16\.0\.0/16' 
ip -n "$EDGE" route show table 220 | expect "charon routes the on-premises prefixes into ipsec0 on the edge" \
    '^172\.16\.0\.0/16 .*dev ipsec0'

echo "VM <-> on-premises"
lab_ping app 172.16.1.10 | expect "app (VPC, host-a) pings onprem 172.16.1.10 through the VPN" ' 0% packet loss'
lab_in onprem ping -n -c 3 -i 0.2 -W 1 10.40.1.10 2>&1 \
    | expect "onprem pings app 10.40.1.10 through the VPN" ' 0% packet loss'
lab_in onprem ping -n -c 1 -W 1 10.40.1.20 2>&1 \
    | expect "... not an ENI that is not plugged here (eni-db's host is absent): no answer" ' 100% packet loss'

sleep 0.3
kill "$TCPDUMP" 2>/dev/null; sleep 0.3
wan=$(tcpdump -r "$TEST_DIR/wan.pcap" -nn 2>/dev/null)
expect "WAN: IKEv2 on UDP 500" '198\.51\.100\.1\.500 > 198\.51\.100\.2\.500: isakmp' <<<"$wan"
expect "WAN: ESP in UDP 4500 both ways (edge -> cgw)" '198\.51\.100\.1\.4500 > 198\.51\.100\.2\.4500: UDP-encap: ESP' <<<"$wan"
expect "WAN: ESP in UDP 4500 both ways (cgw -> edge)" '198\.51\.100\.2\.4500 > 198\.51\.100\.1\.4500: UDP-encap: ESP' <<<"$wan"
n=$(grep -c 'IP .*ICMP' <<<"$wan")
[ "$n" = 0 ] && pass "WAN: no plain ICMP" || { fail "WAN: $n plain ICMP packets"; grep ICMP <<<"$wan" | head -5; }

if [ "$FAILS" -ne 0 ]; then
    lab_dump edge-1
    for d in edge-ipsec cgw-ipsec; do echo "--- $d/charon.log"; tail -20 "$TEST_DIR/$d/charon.log"; done
fi
vpn_cleanup
finish

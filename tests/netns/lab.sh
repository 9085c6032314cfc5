# tests/netns/lab.sh: a multi-host lab in network namespaces, with real
# packets through userspace (netdev) OVS and Geneve.  Source it; it sources
# ../lib.sh.  A topology takes a few lines:
#
#   lab_require                                  # SKIP (exit 77) if impossible
#   lab_host host-a 192.168.100.1                # netns + OVS + br-phy + br-int
#   lab_host host-b 192.168.100.2
#   lab_vm host-a web-a eni-web-a 02:00:00:10:01:0a 10.10.1.10/24 10.10.1.1
#   lab_apply examples/web-tier.json             # vpcctl apply on every host
#   lab_in web-a ping -c 2 -W 1 10.10.1.11
#
# Every namespace is named $LAB_PFX<name> (LAB_PFX=ovpc<pid>- by default), so
# parallel runs never collide.  The underlay is a Linux bridge in the netns
# $LAB_PFX"ul"; each host gets a veth "ul0" into it (no IP on the veth; the
# underlay address is on br-phy).  Every netns,
# veth, OVS and background process is tracked and removed by lab_cleanup,
# which runs on exit (trap).

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# 'producer | expect ...' must count failures in this shell, not a subshell.
shopt -s lastpipe

LAB_PFX=${LAB_PFX:-ovpc$$-}
LAB_NETNS=()            # every netns we created, in creation order
LAB_VETHS=()            # "NETNS DEV" of every veth we created
LAB_PIDS=()             # background processes (listeners) we started
LAB_HOSTS=()            # host names, in creation order
declare -A LAB_HOST_IP=()
declare -A LAB_VM_HOST=()
LAB_NPORT=0             # port counter (veth names must be <= 15 chars)
LAB_UL=${LAB_PFX}ul     # underlay bridge netns

# lab_ns NAME: the netns of host or VM NAME.
lab_ns() { printf '%s%s' "$LAB_PFX" "$1"; }

# lab_in NAME CMD...: run CMD inside host or VM NAME's netns.
lab_in() { ip netns exec "$(lab_ns "$1")" "${@:2}"; }

# lab_bg NAME CMD...: run CMD in the background in NAME's netns (killed at
# cleanup).  Its pid is in LAB_LAST_PID.
lab_bg() {
    # <&0: keep the caller's stdin (a script's '&' would give /dev/null).
    ip netns exec "$(lab_ns "$1")" "${@:2}" <&0 &
    LAB_LAST_PID=$!
    disown "$LAB_LAST_PID"          # no "Terminated" notice at cleanup
    LAB_PIDS+=("$LAB_LAST_PID")
}

# lab_require: root, netns, veth, bridge and the tools; else SKIP (77).
lab_require() {
    local t
    if [ "$(id -u)" != 0 ]; then skip "not root"; fi
    for t in ip ethtool nc ping sysctl; do
        command -v "$t" >/dev/null || skip "no $t"
    done
    if ! ip netns add "${LAB_PFX}probe" 2>/dev/null; then
        skip "cannot create network namespaces"
    fi
    ip netns del "${LAB_PFX}probe"
    [ -x "$VPCCTL" ] || skip "$VPCCTL not built"
}

# lab_netns NS: create and track a netns with loopback up.
lab_netns() {
    ip netns add "$1" || { fail "ip netns add $1"; return 1; }
    LAB_NETNS+=("$1")
    ip -n "$1" link set lo up
}

# lab_underlay: the shared underlay bridge (created on first use).
lab_underlay() {
    [ -n "${LAB_UL_UP:-}" ] && return 0
    lab_netns "$LAB_UL" || return 1
    LAB_UL_UP=1
    ip netns exec "$LAB_UL" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip -n "$LAB_UL" link add br0 type bridge
    ip -n "$LAB_UL" link set br0 up
}

# lab_host NAME UNDERLAY_IP: netns NAME with its own OVS (named NAME, so
# vsctl_on/vpcctl_on NAME work), br-phy (netdev, underlay veth ul0, IP/24)
# and br-int (netdev, fail-mode secure, Geneve port vpc-tun with flow-based
# remote_ip and key).
lab_host() {
    local name=$1 ip=$2 ns
    ns=$(lab_ns "$name")
    lab_underlay
    lab_netns "$ns" || return 1
    LAB_HOSTS+=("$name")
    LAB_HOST_IP[$name]=$ip
    # The host kernel also sees ul0's packets (AF_PACKET): it must not answer
    # ARP for br-phy's address on ul0 (lab notes, pitfall 4).
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
        net.ipv4.conf.default.arp_ignore=1 \
        net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    LAB_NPORT=$((LAB_NPORT + 1))
    local peer=h$LAB_NPORT
    ip link add ul0 netns "$ns" type veth peer name "$peer" netns "$LAB_UL"
    LAB_VETHS+=("$ns ul0")
    ip -n "$LAB_UL" link set "$peer" master br0 up
    ip -n "$ns" link set ul0 up
    ovs_start "$name" "$ns"
    vsctl_on "$name" \
        -- add-br br-phy -- set bridge br-phy datapath_type=netdev \
        -- add-port br-phy ul0 \
        -- add-br br-int -- set bridge br-int datapath_type=netdev \
           fail-mode=secure \
        -- add-port br-int vpc-tun -- set interface vpc-tun type=geneve \
           options:remote_ip=flow options:key=flow ofport_request=1000
    ip -n "$ns" addr add "$ip/24" dev br-phy
    ip -n "$ns" link set br-phy up
}

# lab_vm HOST VM ENI MAC IP/PREFIX GW: netns VM with eth0 (MAC, IP, MTU 1450,
# tx checksum offload off, no IPv6, default route via GW), its peer a port of
# HOST's br-int bound to ENI (external_ids:vpc-eni-id).
lab_vm() {
    local host=$1 vm=$2 eni=$3 mac=$4 addr=$5 gw=$6 hns vns port
    hns=$(lab_ns "$host"); vns=$(lab_ns "$vm")
    lab_netns "$vns" || return 1
    LAB_VM_HOST[$vm]=$host
    LAB_NPORT=$((LAB_NPORT + 1))
    port=vp$LAB_NPORT
    ip netns exec "$vns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    ip link add "$port" netns "$hns" type veth peer name eth0 netns "$vns"
    LAB_VETHS+=("$hns $port")
    ip -n "$vns" link set eth0 address "$mac" mtu 1450
    ip netns exec "$vns" ethtool -K eth0 tx off >/dev/null 2>&1
    ip -n "$vns" addr add "$addr" dev eth0
    ip -n "$vns" link set eth0 up
    ip -n "$vns" route add default via "$gw"
    ip -n "$hns" link set "$port" up
    vsctl_on "$host" add-port br-int "$port" -- set interface "$port" \
        external_ids:vpc-eni-id="$eni"
}

# lab_warm: fill every host's tunnel neighbour cache (tnl/neigh/show) with
# every other host's underlay MAC, so that no VM packet is dropped while OVS
# ARPs for the remote tunnel endpoint.  OVS learns from the ARP replies that
# its br-phy sees, so each host flushes its kernel's neighbours and pings.
lab_warm() {
    local a b ok=1 try missing
    for try in 1 2 3; do
        missing=0
        for a in "${LAB_HOSTS[@]}"; do
            for b in "${LAB_HOSTS[@]}"; do
                [ "$a" = "$b" ] && continue
                appctl_on "$a" tnl/neigh/show | grep -q "^${LAB_HOST_IP[$b]} " \
                    && continue
                missing=1
                lab_in "$a" ip neigh flush dev br-phy
                lab_in "$a" ping -c 1 -W 2 "${LAB_HOST_IP[$b]}" >/dev/null || ok=0
            done
        done
        [ $missing = 0 ] && break
    done
    [ $ok = 1 ] && [ $missing = 0 ] \
        && pass "underlay: every host pings and knows every other's br-phy" \
        || fail "underlay: hosts cannot reach each other's br-phy (or OVS did not learn it)"
}

# lab_apply FILE: vpcctl apply FILE on every host (for its own host id).
lab_apply() {
    local h out
    for h in "${LAB_HOSTS[@]}"; do
        out=$(vpcctl_on "$h" apply "$1" --host "$h" 2>&1)
        expect "apply $(basename "$1") on $h" ' [1-9][0-9]* added' <<<"$out"
    done
}

# lab_ping FROM DST [ping args]: ping's output (3 probes, 0.2 s apart).
lab_ping() {
    lab_in "$1" ping -n -c 3 -i 0.2 -W 1 "${@:3}" "$2" 2>&1
}

# lab_rx VM: packets received on VM's eth0.
lab_rx() {
    lab_in "$1" cat /sys/class/net/eth0/statistics/rx_packets
}

# lab_snmp VM PROTO FIELD: a counter of VM's /proc/net/snmp, e.g.
# 'lab_snmp web-b Icmp InEchos' (echo requests that reached VM's kernel).
lab_snmp() {
    lab_in "$1" awk -v p="$2:" -v f="$3" '
        $1 == p { if (!c) { for (i = 2; i <= NF; i++) if ($i == f) c = i }
                  else print $c }' /proc/net/snmp
}

# lab_listen VM PORT BANNER: a one-shot TCP listener in VM that sends BANNER
# and writes what it receives to $TEST_DIR/VM-PORT.in; waits until it listens.
lab_listen() {
    local vm=$1 port=$2 banner=$3 i
    echo "$banner" > "$TEST_DIR/$vm-$port.banner"
    lab_bg "$vm" nc -N -l -p "$port" < "$TEST_DIR/$vm-$port.banner" \
        > "$TEST_DIR/$vm-$port.in" 2>/dev/null
    for i in $(seq 40); do
        lab_in "$vm" ss -Hltn "sport = :$port" | grep -q . && return 0
        sleep 0.05
    done
    fail "listener on $vm:$port did not start"
}

# lab_connect VM IP PORT MSG: connect from VM, send MSG, print what came back.
lab_connect() {
    echo "$4" | lab_in "$1" timeout 5 nc -N -w 3 "$2" "$3" 2>&1
}

# lab_dump HOST: what to look at when a check fails (flows with counters).
lab_dump() {
    echo "--- $1 br-int flows with packets:"
    ofctl_on "$1" dump-flows br-int | grep -v 'n_packets=0,' | sed 's/^/   /'
    echo "--- $1 datapath flows:"
    appctl_on "$1" dpctl/dump-flows 2>/dev/null | sed 's/^/   /'
}

# lab_cleanup: kill listeners, stop every OVS, delete veths and netns.
lab_cleanup() {
    local p v ns i
    for p in "${LAB_PIDS[@]}"; do
        pkill -P "$p" 2>/dev/null      # children of that one pid only
        kill "$p" 2>/dev/null
    done
    for p in "${LAB_PIDS[@]}"; do
        for i in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.05
        done
    done
    LAB_PIDS=()
    ovs_stop_all
    for v in "${LAB_VETHS[@]}"; do
        ip -n ${v% *} link del "${v#* }" 2>/dev/null
    done
    LAB_VETHS=()
    for ((i = ${#LAB_NETNS[@]} - 1; i >= 0; i--)); do
        ip netns del "${LAB_NETNS[i]}" 2>/dev/null
    done
    LAB_NETNS=()
}
trap lab_cleanup EXIT
trap 'lab_cleanup; exit 130' INT TERM

# --- Helpers for non-VM namespaces and captures (tests/netns/edge.sh). ---

# lab_node NAME: a plain netns NAME (an outside router or host, not a VM of
# the VPC): loopback up, no IPv6, rp_filter off.
lab_node() {
    local ns
    ns=$(lab_ns "$1")
    lab_netns "$ns" || return 1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# lab_veth NAME1 DEV1 NAME2 DEV2: a veth pair between the netns of NAME1
# and NAME2 (hosts, VMs or nodes), both ends up with tx checksum offload
# off (no partial checksums from a kernel into OVS).
lab_veth() {
    local n1 n2
    n1=$(lab_ns "$1"); n2=$(lab_ns "$3")
    ip link add "$2" netns "$n1" type veth peer name "$4" netns "$n2" \
        || { fail "veth $1:$2 - $3:$4"; return 1; }
    LAB_VETHS+=("$n1 $2")
    ip netns exec "$n1" ethtool -K "$2" tx off >/dev/null 2>&1
    ip netns exec "$n2" ethtool -K "$4" tx off >/dev/null 2>&1
    ip -n "$n1" link set "$2" up
    ip -n "$n2" link set "$4" up
}

# lab_capture NAME FILE TCPDUMP-ARGS...: tcpdump (-l -nn -e, immediate
# mode) in NAME's netns in the background, its text in FILE; returns once it
# listens.  Its pid is in LAB_LAST_PID (stop it with lab_stop).
lab_capture() {
    local name=$1 file=$2 i
    shift 2
    lab_bg "$name" tcpdump --immediate-mode -l -nn -e "$@" > "$file" 2> "$file.err"
    for i in $(seq 60); do
        grep -q 'listening on' "$file.err" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "tcpdump in $name did not start: $(cat "$file.err")"
}

# lab_stop PID: stop one background process started by lab_bg (tcpdump
# flushes its output on SIGTERM) and wait until it is gone.
lab_stop() {
    local i
    kill "$1" 2>/dev/null
    for i in $(seq 40); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
}

# lab_wait_file FILE PATTERN [TENTHS]: wait (default 3 s) until FILE
# matches the extended regexp PATTERN; status 0 if it did.
lab_wait_file() {
    local i
    for i in $(seq "${3:-30}"); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# lab_vlan_limit HOST N: other_config:vlan-limit=N on HOST's OVS (N=2 for
# 802.1ad Q-in-Q), then restart its ovs-vswitchd.  OVS probes how many VLAN
# headers the netdev datapath takes ("Max VLAN headers" in
# dpif/show-dp-features) once, when the first bridge is created, under the
# vlan-limit of that moment, and never again: lab_host creates the bridges at
# once, so without the restart it stays 1.  Packets still pass (upcalls
# translate the packet, both tags), but the revalidators translate the
# datapath flows' keys with the outer tag only, so dump-flows credits the
# drop rule of the inner-tag table with what was forwarded.  Call it before
# lab_warm and lab_apply (a restart loses OpenFlow flows and tunnel
# neighbours).
lab_vlan_limit() {
    local name=$1 n=$2 d=${OVS_DIR[$1]} pid i
    vsctl_on "$name" set Open_vSwitch . other_config:vlan-limit="$n"
    pid=$(cat "$d/ovs-vswitchd.pid")
    kill "$pid"
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ip netns exec "$(lab_ns "$name")" env OVS_RUNDIR="$d" OVS_LOGDIR="$d" \
        OVS_DBDIR="$d" ovs-vswitchd "unix:$d/db.sock" --enable-dummy \
        --disable-system --pidfile="$d/ovs-vswitchd.pid" \
        --unixctl="$d/ovs-vswitchd.ctl" --log-file="$d/ovs-vswitchd.log" \
        -vconsole:off --detach --no-chdir 2>>"$d/stderr.log"
    for i in $(seq 50); do
        appctl_on "$name" dpif/show-dp-features br-int 2>/dev/null \
            | grep -q "^Max VLAN headers: $n\$" && return 0
        sleep 0.1
    done
    fail "$name: ovs-vswitchd did not come back with $n VLAN headers"
}

# lab_metadata_port HOST [PORT]: the instance metadata service port of
# HOST (docs/vpcd.md, "Instance metadata"): an OVS internal port PORT
# (default vpc-md) on br-int with external_ids:vpc-service=metadata, whose
# kernel side (a tap on the netdev datapath) holds 169.254.169.254/32 and
# routes the ENIs' service addresses, 169.254.128.0/17, to it; tx checksum
# offload off, as on every lab port.  vpcd --metadata=169.254.169.254:80
# serves HTTP there.
lab_metadata_port() {
    local host=$1 port=${2:-vpc-md} i
    vsctl_on "$host" add-port br-int "$port" -- set interface "$port" \
        type=internal external_ids:vpc-service=metadata \
        || { fail "$host: cannot add the metadata port $port"; return 1; }
    for i in $(seq 50); do
        lab_in "$host" ip link show "$port" >/dev/null 2>&1 && break
        sleep 0.1
    done
    lab_in "$host" ethtool -K "$port" tx off >/dev/null 2>&1
    lab_in "$host" ip addr add 169.254.169.254/32 dev "$port"
    lab_in "$host" ip link set "$port" up
    lab_in "$host" ip route add 169.254.128.0/17 dev "$port" \
        src 169.254.169.254
}

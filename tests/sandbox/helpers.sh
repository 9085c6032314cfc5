# tests/sandbox/helpers.sh: extra helpers for the sandbox tests.  Source it
# after tests/lib.sh.

# dp_port NAME PORT: the datapath port number of PORT (ofproto/trace's
# "Datapath actions" name datapath ports, not OpenFlow ports).
dp_port() {
    appctl_on "$1" dpif/show | awk -v p="$2" '$1 == p { split($2, a, "[/:]"); print a[2] }'
}

# rx_trace NAME TUN_ID TUN_SRC DL_DST NW_SRC NW_DST: ofproto/trace of a
# Geneve ICMP echo request arriving on the tunnel port (ofport 1000),
# conntrack answering "new".
rx_trace() {
    appctl_on "$1" ofproto/trace br-int "in_port=1000,tun_id=$2,tun_src=$3,tun_dst=192.168.100.1,dl_dst=$4,icmp,nw_src=$5,nw_dst=$6,icmp_type=8" --ct-next trk,new 2>&1
}

# dp_actions: the last "Datapath actions" line of a trace, on stdin.
dp_actions() { grep '^Datapath actions:' | tail -1; }

# wait_pcap NAME FILE PATTERN: polls the capture (up to 3 s) until tcpdump's
# text matches PATTERN; prints the text either way.
wait_pcap() {
    local i text
    for i in $(seq 30); do
        text=$(pcap_text "$1" "$2")
        grep -Eq -- "$3" <<<"$text" && break
        sleep 0.1
    done
    printf '%s\n' "$text"
}

# tests/lib.sh: shared helpers for the sandbox and netns tests.  Source it.
#
# Every OVS started here lives in its own temp dir and is stopped by its pid
# file (never pkill).  A test builds its topology in a few lines:
#
#   ovs_start host-a                     # ovsdb-server + ovs-vswitchd
#   sandbox_host host-a 192.168.100.1    # br-int + Geneve + dummy underlay
#   sandbox_vm host-a vm1 1 eni-web-a    # a dummy port bound to an ENI
#   vpcctl_on host-a apply examples/web-tier.json --host host-a
#   trace_on host-a examples/web-tier.json 'from eni-web-a to 10.10.2.10'
#
# and asserts with 'expect' (grep) or 'expect_not', ending with 'finish'.
# A test that cannot run here says why with 'skip REASON' (exit 77);
# tests/run.sh decides whether that skip is expected.

set -u
# 'cmd | expect ...' must count failures in this shell, not in a subshell.
shopt -s lastpipe
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
OVS=$TOP/build/ovs
VPCCTL=$TOP/build/vpcctl
export PATH=$OVS/utilities:$OVS/vswitchd:$OVS/ovsdb:$PATH

TEST_DIR=${TEST_DIR:-$(mktemp -d /tmp/ovs-vpc-test.XXXXXX)}
mkdir -p "$TEST_DIR"
FAILS=0
# Every check's outcome, one line each, so that a 'fail' in a subshell (a
# helper run in $(...), a pipeline's first stage) still counts in 'finish'.
CHECKS_FILE=$TEST_DIR/checks.log
: > "$CHECKS_FILE"
declare -A OVS_DIR=()

# ovs_start NAME [NETNS]: starts ovsdb-server and ovs-vswitchd for NAME in
# $TEST_DIR/NAME, optionally inside network namespace NETNS.  The dummy
# datapath is enabled (sandbox); netdev bridges also work (netns lab).
ovs_start() {
    local name=$1 ns=${2:-} d=$TEST_DIR/$1
    local nsexec=()
    [ -n "$ns" ] && nsexec=(ip netns exec "$ns")
    mkdir -p "$d"
    OVS_DIR[$name]=$d
    ovsdb-tool create "$d/conf.db" "$OVS/vswitchd/vswitch.ovsschema"
    "${nsexec[@]}" env OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d" \
        ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
        --pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" \
        --log-file="$d/ovsdb-server.log" -vconsole:off --detach --no-chdir 2>>"$d/stderr.log"
    ovs-vsctl --db="unix:$d/db.sock" --no-wait init
    "${nsexec[@]}" env OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d" \
        ovs-vswitchd "unix:$d/db.sock" --enable-dummy --disable-system \
        --pidfile="$d/ovs-vswitchd.pid" --unixctl="$d/ovs-vswitchd.ctl" \
        --log-file="$d/ovs-vswitchd.log" -vconsole:off --detach --no-chdir 2>>"$d/stderr.log"
}

# ovs_stop_all: stops every OVS this test started, by pid file.
ovs_stop_all() {
    local name d
    for name in "${!OVS_DIR[@]}"; do
        d=${OVS_DIR[$name]}
        for p in ovs-vswitchd ovsdb-server; do
            [ -f "$d/$p.pid" ] && kill "$(cat "$d/$p.pid")" 2>/dev/null
        done
    done
    for name in "${!OVS_DIR[@]}"; do
        d=${OVS_DIR[$name]}
        for p in ovs-vswitchd ovsdb-server; do
            for _ in $(seq 50); do
                pid=$(cat "$d/$p.pid" 2>/dev/null) || break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        done
    done
    OVS_DIR=()
}

# ovsdb_start DIR NAME SCHEMA: a fresh database NAME of SCHEMA served by its
# own ovsdb-server on DIR/NAME.sock (the OVN NB/SB tests); stop it with
# pid_stop DIR/NAME.pid.
ovsdb_start() {
    local d=$1 n=$2
    mkdir -p "$d"
    rm -f "$d/$n.db"
    ovsdb-tool create "$d/$n.db" "$3"
    ovsdb-server "$d/$n.db" --remote="punix:$d/$n.sock" \
        --pidfile="$d/$n.pid" --unixctl="$d/$n.ctl" \
        --log-file="$d/$n.log" -vconsole:off --detach --no-chdir \
        2>>"$d/stderr.log"
}

# pid_stop PIDFILE: stops the daemon of PIDFILE (if any) and waits for it.
pid_stop() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$1"
}

# Client commands against NAME's OVS.
vsctl_on()  { ovs-vsctl --timeout=10 --db="unix:${OVS_DIR[$1]}/db.sock" "${@:2}"; }
appctl_on() { ovs-appctl -t "${OVS_DIR[$1]}/ovs-vswitchd.ctl" "${@:2}"; }
ofctl_on()  { OVS_RUNDIR=${OVS_DIR[$1]} ovs-ofctl -O OpenFlow15 "${@:2}"; }
# VPC_MAPPING=flows|action picks the mapping mode of every vpcctl call, so
# that the same tests check both (make check runs them in both modes).
VPC_MAPPING=${VPC_MAPPING:-flows}
vpcctl_on() {
    OVS_RUNDIR=${OVS_DIR[$1]} "$VPCCTL" "${@:2}" --mapping="$VPC_MAPPING"
}

# sandbox_host NAME UNDERLAY_IP: br-int with the Geneve port (ofport 1000)
# and br-phy with dummy underlay port p0 (tx captured in NAME-p0.pcap).
# Every other underlay address resolves to 02:ee:00:00:00:01.
sandbox_host() {
    local name=$1 ip=$2 d=${OVS_DIR[$1]}
    vsctl_on "$name" \
        -- add-br br-int -- set bridge br-int datapath_type=dummy \
           fail-mode=secure \
        -- add-port br-int vpc-tun -- set interface vpc-tun type=geneve \
           options:remote_ip=flow options:key=flow ofport_request=1000 \
        -- add-br br-phy -- set bridge br-phy datapath_type=dummy \
           other-config:hwaddr=02:aa:00:00:00:01 \
        -- add-port br-phy p0 -- set interface p0 type=dummy \
           ofport_request=1 options:tx_pcap="$d/p0.pcap"
    appctl_on "$name" netdev-dummy/ip4addr br-phy "$ip/24" >/dev/null
    appctl_on "$name" ovs/route/add "${ip%.*}.0/24" br-phy >/dev/null
    local i
    for i in 1 2 3 4 254; do
        appctl_on "$name" tnl/arp/set br-phy "${ip%.*}.$i" \
            02:ee:00:00:00:01 >/dev/null
    done
    ofctl_on "$name" add-flow br-phy action=normal
}

# sandbox_vm NAME PORT OFPORT ENI: a dummy VM port on br-int bound to ENI;
# what OVS sends to the VM is captured in $TEST_DIR/NAME/PORT.pcap.
sandbox_vm() {
    local name=$1 port=$2 ofport=$3 eni=$4 d=${OVS_DIR[$1]}
    vsctl_on "$name" add-port br-int "$port" -- set interface "$port" \
        type=dummy ofport_request="$ofport" options:tx_pcap="$d/$port.pcap" \
        external_ids:vpc-eni-id="$eni"
}

# pcap_text NAME FILE: the packets in a capture, decoded by tcpdump.  A
# capture that cannot be read is a failed check, not an empty one (which
# would pass every "nothing arrived" check by accident).  tcpdump reading
# a capture that OVS is still writing may stop at a truncated last packet:
# what came before is printed and that is no failure.
pcap_text() {
    local f=${OVS_DIR[$1]}/$2 err rc
    err=$(mktemp "$TEST_DIR/tcpdump.XXXXXX")
    tcpdump -r "$f" -nn -e -v 2>"$err"; rc=$?
    if [ "$rc" -ne 0 ] && ! grep -q 'truncated dump file' "$err"; then
        # To stderr: stdout is the text a check reads.
        fail "cannot read capture $1/$2 (tcpdump exit $rc: $(head -1 "$err"))" >&2
    fi
    rm -f "$err"
    return "$rc"
}

# Assertions.  'expect WHAT PATTERN' passes if the text on stdin matches
# the extended regexp, 'expect_not WHAT PATTERN' if it does not:
#
#   ofctl_on host-a dump-flows br-int | expect "a flow" 'table=60'
#   expect_not "no spoofed source" '10\.10\.1\.99' <<<"$all"
#
# Either fails on empty input: a command that fails in a pipe or in $(...)
# usually prints nothing and its exit status is lost, so "nothing matched"
# could not be told from "nothing ran".  Where empty output is a right
# answer (or a command may fail after printing), give the command after the
# pattern: 'expect[_not] WHAT PATTERN CMD [ARG...]' runs it, fails if it
# exits non-zero, and then checks its output, empty or not:
#
#   expect_not "no ACL on subnet-web" . nbctl acl-list subnet-web
pass() { printf '  ok   %s\n' "$1"; echo "ok $1" >> "$CHECKS_FILE"; }
fail() {
    printf '  FAIL %s\n' "$1"; FAILS=$((FAILS + 1))
    echo "FAIL $1" >> "$CHECKS_FILE"
}
# check_text WHAT [CMD...]: the text to check, from CMD or stdin, into
# CHECK_TEXT; returns 1 (the check failed) if it cannot be trusted.
check_text() {
    local what=$1 rc err; shift
    if [ $# -eq 0 ]; then
        CHECK_TEXT=$(cat)
        if [ -z "$CHECK_TEXT" ]; then
            fail "$what (no input: did the command feeding it fail?)"
            return 1
        fi
        return 0
    fi
    err=$(mktemp "$TEST_DIR/check.XXXXXX")
    CHECK_TEXT=$("$@" 2>"$err"); rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$what (exit $rc from: $*)"
        { printf '%s\n' "$CHECK_TEXT"; cat "$err"; } | sed 's/^/       | /' \
            | tail -15
        rm -f "$err"
        return 1
    fi
    rm -f "$err"
}
expect() {
    local what=$1 pattern=$2; shift 2
    check_text "$what" "$@" || return 0
    if grep -Eq -- "$pattern" <<<"$CHECK_TEXT"; then pass "$what"; else
        fail "$what (no /$pattern/ in:)"
        sed 's/^/       | /' <<<"$CHECK_TEXT" | tail -25
    fi
}
expect_not() {
    local what=$1 pattern=$2; shift 2
    check_text "$what" "$@" || return 0
    if grep -Eq -- "$pattern" <<<"$CHECK_TEXT"; then
        fail "$what (unexpected /$pattern/ in:)"
        sed 's/^/       | /' <<<"$CHECK_TEXT" | tail -25
    else pass "$what"; fi
}
# expect_status WHAT STATUS CMD...: the command exits with STATUS.
expect_status() {
    local what=$1 want=$2; shift 2
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" = "$want" ]; then pass "$what"; else
        fail "$what (exit $rc, wanted $want)"; sed 's/^/       | /' <<<"$out" | tail -15
    fi
}

# finish: stops daemons, reports, exits non-zero on any failure (counted
# in CHECKS_FILE, subshells included) or if no check ran at all.
finish() {
    ovs_stop_all
    local n_fail n_ok
    if [ ! -f "$CHECKS_FILE" ]; then
        echo "  $CHECKS_FILE is gone (was $TEST_DIR removed?):" \
             "what passed is unknown"
        exit 1
    fi
    n_fail=$(grep -c '^FAIL ' "$CHECKS_FILE")
    n_ok=$(grep -c '^ok ' "$CHECKS_FILE")
    [ "$FAILS" -gt "$n_fail" ] && n_fail=$FAILS
    if [ "$n_fail" -ne 0 ]; then
        echo "  $n_fail check(s) failed; logs in $TEST_DIR"
        exit 1
    fi
    if [ "$n_ok" -eq 0 ]; then
        echo "  no check ran; logs in $TEST_DIR"
        exit 1
    fi
    rm -rf "$TEST_DIR"
    exit 0
}

# skip REASON: this test cannot run on this machine (a missing tool, not
# root).  Prints the reason for tests/run.sh (which fails an unexpected skip
# under CI=true, see there) and exits 77.  Call it before starting daemons.
skip() {
    echo "SKIP: $1"
    if [ -n "${VPC_SKIP_REASON_FILE:-}" ]; then
        printf '%s\n' "$1" > "$VPC_SKIP_REASON_FILE"
    fi
    ovs_stop_all
    rm -rf "$TEST_DIR"
    exit 77
}
trap 'ovs_stop_all; exit 143' INT TERM

# stage_table LABEL: the OpenFlow table of pipeline stage LABEL (e.g.
# sg_in), from the declaration ('vpcctl pipeline-doc'), so that tests name
# stages and never hard-code table numbers.
stage_table() {
    local t
    t=$("$VPCCTL" pipeline-doc | awk -F' *[|] *' -v l="\`$1\`" '$3 == l { print $2 }')
    [ -n "$t" ] || { echo "stage_table: no stage '$1'" >&2; return 1; }
    echo "$t"
}

# The region database (docs/regiondb.md).  regiondb_start DIR: a fresh
# OVS_VPC_Region database served on DIR/region.sock (stop it with
# pid_stop DIR/region.pid); sets REGION_DB to its remote.
REGION_SCHEMA=$TOP/build/regiondb/region.ovsschema
regiondb_start() {
    ovsdb_start "$1" region "$REGION_SCHEMA"
    REGION_DB=unix:$1/region.sock
}
# regiondb_versions REMOTE: one line "TABLE UUID VERSION" per row of every
# table, sorted; two of them compared tell which rows a transaction
# inserted, changed or deleted.
regiondb_versions() {
    local ops
    ops=$(jq -c '[.name] + [.tables | keys[] | {op: "select", table: .,
                 where: [], columns: ["_uuid", "_version"]}]' "$REGION_SCHEMA")
    ovsdb-client transact "$1" "$ops" \
        | jq -r --argjson t "$(jq -c '.tables | keys' "$REGION_SCHEMA")" \
            'to_entries[] | .key as $i | .value.rows[]
             | "\($t[$i]) \(._uuid[1]) \(._version[1])"' | sort
}
# json_norm FILE: a region document with keys sorted, lists sorted and empty
# lists dropped (what load + dump keeps: docs/regiondb.md).
json_norm() {
    jq -S 'walk(if type == "object" then with_entries(select(.value != []))
                else . end) | walk(if type == "array" then sort else . end)' "$1"
}
# regiondb_cluster_start DIR N: a Raft cluster of N members serving a fresh
# region database, member i on DIR/s<i>.sock (stop each with pid_stop
# DIR/s<i>.pid); sets REGION_DB to the comma-separated list of them.
regiondb_cluster_start() {
    local d=$1 n=$2 i remotes=()
    mkdir -p "$d"
    ovsdb-tool create-cluster "$d/s1.db" "$REGION_SCHEMA" "unix:$d/s1.raft"
    for i in $(seq 2 "$n"); do
        ovsdb-tool join-cluster "$d/s$i.db" OVS_VPC_Region \
            "unix:$d/s$i.raft" "unix:$d/s1.raft"
    done
    for i in $(seq "$n"); do
        ovsdb-server "$d/s$i.db" --remote="punix:$d/s$i.sock" \
            --pidfile="$d/s$i.pid" --unixctl="$d/s$i.ctl" \
            --log-file="$d/s$i.log" -vconsole:off --detach --no-chdir \
            2>>"$d/stderr.log"
        remotes+=("unix:$d/s$i.sock")
    done
    for i in $(seq "$n"); do
        ovsdb-client --timeout=30 wait "unix:$d/s$i.sock" OVS_VPC_Region \
            connected 2>>"$d/stderr.log"
    done
    REGION_DB=$(IFS=,; echo "${remotes[*]}")
    REGION_MEMBERS=$REGION_DB
}
# regiondb_cluster_stop DIR N: stops the members regiondb_cluster_start
# started (and the relays regiondb_relay_start started in DIR).
regiondb_cluster_stop() {
    local i p
    for p in "$1"/relay-*.pid; do [ -f "$p" ] && pid_stop "$p"; done
    for i in $(seq "$2"); do pid_stop "$1/s$i.pid"; done
}
# regiondb_relay_start DIR NAME SOURCES: an ovsdb-server relay of the region
# database (docs/deploy.md) serving DIR/relay-NAME.sock from the members in
# the comma-separated remote list SOURCES; prints its remote.  Stop it with
# pid_stop DIR/relay-NAME.pid.
regiondb_relay_start() {
    local d=$1 n=$2
    ovsdb-server "relay:OVS_VPC_Region:$3" --remote="punix:$d/relay-$n.sock" \
        --pidfile="$d/relay-$n.pid" --unixctl="$d/relay-$n.ctl" \
        --log-file="$d/relay-$n.log" -vconsole:off --detach --no-chdir \
        2>>"$d/stderr.log"
    ovsdb-client --timeout=30 wait "unix:$d/relay-$n.sock" OVS_VPC_Region \
        connected 2>>"$d/stderr.log"
    echo "unix:$d/relay-$n.sock"
}


# tests/vpcd-lib.sh: helpers for tests that run vpcd, the host agent.
# Source it after tests/lib.sh (or tests/netns/lab.sh):
#
#   vpcd_start host-a "" --intents="$F"        # vpcd beside host-a's OVS
#   vpcd_wait host-a '.in_sync and .version == 1'
#   vpcd_http host-a PUT /v1/intents "$F" >/dev/null
#   [ "$VPCD_STATUS" = 200 ] ...               # $VPCD_BODY, $VPCD_MS too
#
# Every vpcd runs with its files in the host's OVS dir (vpcd.pid, vpcd.log,
# vpcd.ctl, state/vpcd.state, the run directory ovs-vpc/), its own HTTP
# port, and the mapping mode of $VPC_MAPPING.  vpcd_stop_all stops them by pid file; ovs_stop_all (thus
# finish and lab_cleanup) is wrapped to call it first.

VPCD=$TOP/build/vpcd
declare -A VPCD_PORT=()     # NAME -> HTTP port
declare -A VPCD_NS=()       # NAME -> netns ("" for none)
# Below Linux's ephemeral range (32768-60999), so that no client socket of
# another process takes the port between vpcd_free_port and vpcd's bind.
VPCD_NEXT_PORT=${VPCD_NEXT_PORT:-$((10000 + ($$ * 7) % 20000))}
VPCD_STATUS= VPCD_BODY= VPCD_MS=
# Words put before vpcd's command line by vpcd_start, e.g. a wrapper that
# runs it in a private mount namespace (tests/sandbox/vpcd-faults.sh).
VPCD_WRAP=()

# vpcd_free_port [NETNS]: sets VPCD_FREE_PORT to the next TCP port nothing
# listens on (in NETNS, else in the root netns).
vpcd_free_port() {
    local nsexec=()
    [ -n "${1:-}" ] && nsexec=(ip netns exec "$1")
    while "${nsexec[@]}" ss -Hltn "sport = :$VPCD_NEXT_PORT" 2>/dev/null | grep -q .; do
        VPCD_NEXT_PORT=$((VPCD_NEXT_PORT + 1))
    done
    VPCD_FREE_PORT=$VPCD_NEXT_PORT
    VPCD_NEXT_PORT=$((VPCD_NEXT_PORT + 1))
}

# vpcd_nsexec NAME CMD...: CMD in NAME's vpcd netns (if any).
vpcd_nsexec() {
    local ns=${VPCD_NS[$1]:-}
    if [ -n "$ns" ]; then ip netns exec "$ns" "${@:2}"; else "${@:2}"; fi
}

# vpcd_start NAME [NETNS] [EXTRA ARGS...]: starts vpcd for host NAME beside
# NAME's OVS (inside NETNS if given; pass "" for none when extra arguments
# follow).  Waits until its HTTP API answers.  A restart keeps the port.
vpcd_start() {
    local name=$1 ns= d=${OVS_DIR[$1]}
    shift
    if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then ns=$1; shift; fi
    VPCD_NS[$name]=$ns
    if [ -z "${VPCD_PORT[$name]:-}" ]; then
        vpcd_free_port "$ns"
        VPCD_PORT[$name]=$VPCD_FREE_PORT
    fi
    mkdir -p "$d/state"
    local try
    for try in 1 2 3; do
        vpcd_nsexec "$name" "${VPCD_WRAP[@]}" \
            env OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d" \
            "$VPCD" --host="$name" --state-dir="$d/state" \
            --http="127.0.0.1:${VPCD_PORT[$name]}" --mapping="$VPC_MAPPING" \
            --pidfile="$d/vpcd.pid" --log-file="$d/vpcd.log" \
            --detach --no-chdir -vconsole:off "$@" 2>>"$d/stderr.log" && break
        # Another test took the port between vpcd_free_port and now.
        if [ $try -lt 3 ] && tail -1 "$d/stderr.log" | grep -q 'cannot listen'; then
            vpcd_free_port "$ns"
            VPCD_PORT[$name]=$VPCD_FREE_PORT
            continue
        fi
        fail "vpcd for $name did not start"; tail -5 "$d/stderr.log"; return 1
    done
    # The vpcd that answers must be this one, for this host: another
    # process on the port would otherwise answer the test's checks.
    local i s
    for i in $(seq 50); do
        s=$(vpcd_nsexec "$name" curl -s -m 2 \
            "http://127.0.0.1:${VPCD_PORT[$name]}/v1/status")
        if [ -n "$s" ]; then
            if [ "$(jq -r .host <<<"$s" 2>/dev/null)" = "$name" ] \
               && kill -0 "$(vpcd_pid "$name")" 2>/dev/null; then
                return 0
            fi
            fail "vpcd for $name: another process answers on port ${VPCD_PORT[$name]}"
            return 1
        fi
        sleep 0.1
    done
    fail "vpcd for $name: HTTP API does not answer"
    return 1
}

# vpcd_pid NAME: vpcd's pid.
vpcd_pid() { cat "${OVS_DIR[$1]}/vpcd.pid" 2>/dev/null; }

# vpcd_kill NAME [SIGNAL]: signals vpcd (default TERM) and, for TERM and
# KILL, waits until it is gone.
vpcd_kill() {
    local pid sig=${2:-TERM} i
    pid=$(vpcd_pid "$1") || return 0
    kill "-$sig" "$pid" 2>/dev/null || return 0
    case $sig in TERM|KILL|9|15) ;; *) return 0 ;; esac
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
}

# vpcd_stop_all: stops every vpcd started here, by pid file.
vpcd_stop_all() {
    local name
    for name in "${!VPCD_PORT[@]}"; do
        [ -n "${OVS_DIR[$name]:-}" ] && vpcd_kill "$name" TERM
    done
    VPCD_PORT=()
}

# Wrap ovs_stop_all (used by finish, the traps and lab_cleanup): vpcd first.
eval "_ovs_stop_all_no_vpcd() $(declare -f ovs_stop_all | tail -n +2)"
ovs_stop_all() { vpcd_stop_all; _ovs_stop_all_no_vpcd; }

# vpcd_appctl NAME CMD...: ovs-appctl to vpcd's control socket.
vpcd_appctl() { ovs-appctl -t "${OVS_DIR[$1]}/vpcd.ctl" "${@:2}"; }

# vpcd_http NAME METHOD PATH [FILE]: an HTTP request to NAME's vpcd, FILE as
# the body.  Prints the body; sets VPCD_STATUS (HTTP status, 000 if none),
# VPCD_BODY and VPCD_MS (round trip).  Call it in the current shell (not in
# $(...) or on the left of a pipe) when the variables matter.
vpcd_http() {
    local name=$1 method=$2 path=$3 file=${4:-} out w
    out=$TEST_DIR/.vpcd-http.$name
    local data=()
    [ -n "$file" ] && data=(--data-binary "@$file" -H 'Content-Type: application/json')
    w=$(vpcd_nsexec "$name" curl -s -m 10 -o "$out" -w '%{http_code} %{time_total}' \
        -X "$method" "${data[@]}" "http://127.0.0.1:${VPCD_PORT[$name]}$path")
    VPCD_STATUS=${w%% *}
    VPCD_MS=$(awk -v t="${w#* }" 'BEGIN { printf "%.1f", t * 1000 }')
    VPCD_BODY=$(cat "$out" 2>/dev/null)
    printf '%s\n' "$VPCD_BODY"
}

# vpcd_status NAME [JQ-FILTER]: GET /v1/status, or one value of it
# (e.g. vpcd_status host-a .flows).
vpcd_status() {
    local s
    s=$(vpcd_nsexec "$1" curl -s -m 5 "http://127.0.0.1:${VPCD_PORT[$1]}/v1/status")
    if [ $# -gt 1 ]; then jq -r "$2" <<<"$s"; else printf '%s\n' "$s"; fi
}

# vpcd_wait NAME JQ-CONDITION [SECONDS]: polls /v1/status (every 50 ms, up
# to SECONDS, default 5) until the jq condition is true, e.g.
# '.in_sync and .version == 2'.  Returns 1 (and prints the last status to
# stderr) on timeout; VPCD_WAITED_MS is how long it took.
vpcd_wait() {
    local name=$1 cond=$2 secs=${3:-5} s t0 end
    t0=$(date +%s%N); end=$((t0 + secs * 1000000000))
    while :; do
        s=$(vpcd_status "$name")
        # jq -e on empty input (vpcd not answering) exits 0: not a match.
        if [ -n "$s" ] && jq -e "$cond" <<<"$s" >/dev/null 2>&1; then
            VPCD_WAITED_MS=$((($(date +%s%N) - t0) / 1000000))
            return 0
        fi
        [ "$(date +%s%N)" -ge "$end" ] && break
        sleep 0.05
    done
    VPCD_WAITED_MS=$((($(date +%s%N) - t0) / 1000000))
    echo "vpcd_wait $name '$cond': timed out; last status:" >&2
    sed 's/^/       | /' <<<"$s" >&2
    return 1
}

# vpcd_expect_wait WHAT NAME JQ-CONDITION [SECONDS]: vpcd_wait as a check.
vpcd_expect_wait() {
    if vpcd_wait "${@:2}" 2>"$TEST_DIR/.vpcd-wait"; then pass "$1"; else
        fail "$1"; cat "$TEST_DIR/.vpcd-wait"
    fi
}

# of_count NAME [BRIDGE]: how many flows BRIDGE (br-int) has.
# Prints "error" (never a count) when ovs-ofctl fails, so that a comparison
# with a number cannot pass on a switch that does not answer.
of_count() {
    local out
    out=$(ofctl_on "$1" dump-flows "${2:-br-int}") || { echo error; return 1; }
    grep -c 'cookie=' <<<"$out"
}

# ovs_kill_vswitchd NAME: kill -9 NAME's ovs-vswitchd (by pid file), wait
# until it is gone; remembers its netns for ovs_start_vswitchd.
declare -A VSWITCHD_NS=()
ovs_kill_vswitchd() {
    local name=$1 d=${OVS_DIR[$1]} pid i
    pid=$(cat "$d/ovs-vswitchd.pid") || { fail "$name: no ovs-vswitchd pid"; return 1; }
    VSWITCHD_NS[$name]=$(ip netns identify "$pid" 2>/dev/null)
    kill -9 "$pid" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
}

# ovs_start_vswitchd NAME: starts NAME's ovs-vswitchd again, same command
# line as ovs_start, in the netns it ran in.  VSWITCHD_STARTED_NS is the
# date +%s%N when it was up (detached).
ovs_start_vswitchd() {
    local name=$1 d=${OVS_DIR[$1]} ns=${VSWITCHD_NS[$1]:-}
    local nsexec=()
    [ -n "$ns" ] && nsexec=(ip netns exec "$ns")
    "${nsexec[@]}" env OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d" \
        ovs-vswitchd "unix:$d/db.sock" --enable-dummy --disable-system \
        --pidfile="$d/ovs-vswitchd.pid" --unixctl="$d/ovs-vswitchd.ctl" \
        --log-file="$d/ovs-vswitchd.log" -vconsole:off --detach --no-chdir 2>>"$d/stderr.log"
    VSWITCHD_STARTED_NS=$(date +%s%N)
}

# ovs_restart_vswitchd NAME: kill -9 NAME's ovs-vswitchd and start the same
# one again (see above).
ovs_restart_vswitchd() { ovs_kill_vswitchd "$1" && ovs_start_vswitchd "$1"; }

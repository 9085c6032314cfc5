#!/usr/bin/env bash
# Sandbox: what ovs-ext's vpcmap/load refuses, on the patched ovs-vswitchd
# (runs whatever VPC_MAPPING says): a NUL byte, an empty file (unless the
# caller expects 0 entries), a count that is not the expected one, a FIFO, a
# symbolic link, a directory.  Each is an error that names the file, and the
# cache keeps its generation; ovs-vswitchd's main thread never blocks.
. "$(dirname "$0")/../lib.sh"
ovs_start host-a
F=$TEST_DIR/map

stats() { appctl_on host-a vpcmap/stats; }
# load ARGS...: vpcmap/load with a bound, so that a blocked ovs-vswitchd
# fails the test instead of hanging it.
load() { ovs-appctl --timeout=5 -t "${OVS_DIR[host-a]}/ovs-vswitchd.ctl" vpcmap/load "$@" 2>&1; }
# unchanged WHAT: the cache still holds the two good entries, generation G.
unchanged() {
    stats | expect "$1: the cache is unchanged" "^entries=2 generation=$G "
}

printf '100 10.0.1.10 192.168.100.2\n100 10.0.1.11 192.168.100.3\n' > "$F.good"
load "$F.good" | expect "a good file loads" '^loaded 2 entries'
load "$F.good" 2 | expect "... also with the expected count" '^loaded 2 entries'
G=$(stats | sed 's/.*generation=\([0-9]*\).*/\1/')

printf '100 10.0.1.10 192.168.100.2\0 junk\n100 10.0.1.11 192.168.100.3\n' > "$F.nul"
load "$F.nul" | expect "a NUL byte is refused, with its line" "$F\.nul:1: NUL byte"
unchanged "NUL byte"

: > "$F.empty"
load "$F.empty" | expect "an empty file is refused" "$F\.empty: no entries"
unchanged "empty file"
printf '# nothing\n\n' > "$F.comments"
load "$F.comments" | expect "... as is a file of comments" "no entries"
unchanged "file of comments"

load "$F.good" 3 | expect "a count that differs is refused" "2 entries, expected 3"
unchanged "wrong count"
load "$F.good" x | expect "a count that is not a number is refused" 'bad expected count "x"'
unchanged "bad count"

mkfifo "$F.fifo"
load "$F.fifo" | expect "a FIFO is refused at once" "$F\.fifo: not a regular file"
# If ovs-vswitchd blocked opening it, a writer unblocks it (then EOF).
timeout 2 bash -c ": > '$F.fifo'" 2>/dev/null
stats | expect "... and ovs-vswitchd still answers" '^entries='
unchanged "FIFO"

ln -s "$F.good" "$F.link"
load "$F.link" | expect "a symbolic link is refused" "$F\.link: open failed"
unchanged "symbolic link"
load "$TEST_DIR" | expect "a directory is refused" "not a regular file"
unchanged "directory"

load "$F.empty" 0 | expect "an empty file with expected count 0 clears the cache" '^loaded 0 entries'
stats | expect "... which is then empty" '^entries=0 '
finish

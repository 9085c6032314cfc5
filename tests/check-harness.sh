#!/usr/bin/env bash
# tests/check-harness.sh: the test harness itself (tests/lib.sh's checks,
# tests/run.sh's counting), so that a test cannot pass by accident: a
# failing command feeding a check, empty input, a failure in a subshell, a
# test that checks nothing, a skip that CI does not expect.  Each case is a
# tiny test script run in a temp dir; no OVS is started.
set -u
TOP=${HARNESS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
D=$(mktemp -d /tmp/ovs-vpc-harness.XXXXXX)
trap 'rm -rf "$D"' EXIT
n_ok=0 n_fail=0
ok() { echo "  ok   $1"; n_ok=$((n_ok + 1)); }
ko() { echo "  FAIL $1"; n_fail=$((n_fail + 1)); sed 's/^/       | /' "$D/out"; }

# case_exit WHAT WANT BODY: a test script sourcing lib.sh, then BODY, then
# 'finish', exits with WANT.
case_exit() {
    local what=$1 want=$2 rc
    { echo ". '$TOP/tests/lib.sh'"; echo "$3"; echo finish; } > "$D/t.sh"
    bash "$D/t.sh" > "$D/out" 2>&1; rc=$?
    if [ "$rc" = "$want" ]; then ok "$what"; else
        ko "$what (exit $rc, wanted $want)"; fi
}

echo "tests/lib.sh"
case_exit "expect_not passes on text without the pattern" 0 \
    'echo abc | expect_not "no x" x'
case_exit "expect_not fails on text with the pattern" 1 \
    'echo abx | expect_not "no x" x'
case_exit "expect_not fails when the command feeding it failed" 1 \
    'false | expect_not "no x" x'
case_exit "expect_not fails on empty input" 1 \
    'expect_not "no x" x <<<""'
case_exit "expect_not CMD passes on a command's empty output" 0 \
    'expect_not "nothing" . true'
case_exit "expect_not CMD fails when the command fails" 1 \
    'expect_not "nothing" . false'
case_exit "expect passes on a match" 0 'echo abc | expect "b" b'
case_exit "expect fails on empty input, even for a pattern matching it" 1 \
    'true | expect "empty" "^$"'
case_exit "expect CMD fails when the command fails, output or not" 1 \
    'expect "b" b sh -c "echo abc; exit 3"'
case_exit "a fail in a subshell still fails the test" 1 \
    'x=$(fail "in a subshell"); pass "main shell"'
case_exit "a fail in a pipeline's first stage still fails the test" 1 \
    'fail "first stage" | cat; pass "main shell"'
case_exit "a test whose checks never ran fails" 1 ':'
case_exit "a test whose temp dir vanished fails" 1 \
    'pass "before"; rm -rf "$TEST_DIR"'
case_exit "pcap_text fails on a capture that is not there" 1 \
    'OVS_DIR[h]=$TEST_DIR; n=$(pcap_text h none.pcap | grep -c x); [ "$n" = 0 ] && pass "nothing captured"'

echo "tests/run.sh"
# run_case WHAT WANT_RC WANT_LINE ENV...: tests/run.sh on t-pass.sh,
# t-fail.sh (if FAIL=1) and t-skip.sh, with ENV; its exit status and closing
# line.
printf '. %q\npass x\nfinish\n' "$TOP/tests/lib.sh" > "$D/t-pass.sh"
printf '. %q\nfail x\nfinish\n' "$TOP/tests/lib.sh" > "$D/t-fail.sh"
printf '. %q\nskip "no frobnicator"\n' "$TOP/tests/lib.sh" > "$D/t-skip.sh"
run_case() {
    local what=$1 want_rc=$2 want_line=$3 rc last; shift 3
    local tests=("$D/t-pass.sh" "$D/t-skip.sh")
    [ "${FAIL:-}" = 1 ] && tests+=("$D/t-fail.sh")
    env "$@" bash "$TOP/tests/run.sh" "${tests[@]}" > "$D/out" 2>&1; rc=$?
    last=$(tail -1 "$D/out")
    if [ "$rc" = "$want_rc" ] && [ "$last" = "$want_line" ]; then ok "$what"
    else ko "$what (exit $rc, last line '$last'; wanted $want_rc, '$want_line')"
    fi
}
run_case "a skip is counted as a skip, not a pass" 0 \
    "1 passed, 0 failed, 1 skipped" -u CI
run_case "under CI=true an unexpected skip fails" 1 \
    "1 passed, 1 failed, 0 skipped" CI=true VPC_ALLOW_SKIP=
run_case "... unless VPC_ALLOW_SKIP names it" 0 \
    "1 passed, 0 failed, 1 skipped" CI=true VPC_ALLOW_SKIP="t-skip.sh"
run_case "... by glob" 0 \
    "1 passed, 0 failed, 1 skipped" CI=true VPC_ALLOW_SKIP="other.sh t-*"
FAIL=1 run_case "a failed test fails the run" 1 \
    "1 passed, 1 failed, 1 skipped" -u CI
if grep -q 'skipped: .*t-skip.sh (no frobnicator' "$D/out"; then
    ok "the skip's reason is reported"
else ko "the skip's reason is reported"; fi

echo "$n_ok passed, $n_fail failed"
[ "$n_fail" -eq 0 ]

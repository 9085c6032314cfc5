#!/usr/bin/env bash
# tests/run.sh TEST...: runs test scripts one by one and closes with the
# line "N passed, N failed, N skipped" (test files), alone on its line so
# that CI can read it; exits 1 if any test failed.
#
# A test passes with exit status 0 and skips with 77, saying why with
# tests/lib.sh's 'skip REASON'.  A skip hides a whole test, so it must be
# expected on this machine: VPC_ALLOW_SKIP lists the tests that may skip,
# as words matched (globs) against the test's path, its path below tests/
# and its file name, e.g. VPC_ALLOW_SKIP="netns/*" (no root here) or
# "vpn.sh ovn-*"; "*" allows every skip.  Under CI=true, a skip that
# VPC_ALLOW_SKIP does not name counts as a failure; elsewhere (a developer's
# machine without OVN, say) it is reported as a skip and the run passes.
set -u
if [ $# -eq 0 ]; then
    echo "usage: tests/run.sh TEST..." >&2
    exit 2
fi

# skip_allowed TEST: whether VPC_ALLOW_SKIP names TEST.
skip_allowed() {
    local t=$1 w
    set -f                      # The words are patterns, not file names.
    for w in ${VPC_ALLOW_SKIP:-}; do
        # Unquoted on the right: a glob.
        # shellcheck disable=SC2053
        if [[ $t == $w || ${t#*tests/} == $w || ${t##*/} == $w ]]; then
            set +f
            return 0
        fi
    done
    set +f
    return 1
}

reason_file=$(mktemp /tmp/ovs-vpc-skip.XXXXXX)
trap 'rm -f "$reason_file"' EXIT
passed=0 failed=() skipped=()
for t in "$@"; do
    echo "== $t${VPC_MAPPING:+ (mapping: $VPC_MAPPING)}"
    : > "$reason_file"
    VPC_SKIP_REASON_FILE=$reason_file bash "$t"
    rc=$?
    case $rc in
        0) passed=$((passed + 1)) ;;
        77)
            reason=$(head -1 "$reason_file")
            reason=${reason:-no reason given}
            if skip_allowed "$t"; then
                skipped+=("$t ($reason)")
            elif [ "${CI:-}" = true ]; then
                failed+=("$t (skipped under CI=true, and VPC_ALLOW_SKIP does not name it: $reason)")
            else
                skipped+=("$t ($reason; not in VPC_ALLOW_SKIP, so CI would fail)")
            fi
            ;;
        *) failed+=("$t") ;;
    esac
done
for s in "${skipped[@]}"; do echo "skipped: $s"; done
for f in "${failed[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, ${#failed[@]} failed, ${#skipped[@]} skipped"
[ ${#failed[@]} -eq 0 ]

#!/usr/bin/env bash
# tests/run.sh TEST...: runs test scripts one by one; exit status 77 means
# skipped.  Fails if any test failed.
set -u
failed=() skipped=()
for t in "$@"; do
    echo "== $t${VPC_MAPPING:+ (mapping: $VPC_MAPPING)}"
    bash "$t"
    case $? in
        0) ;;
        77) skipped+=("$t") ;;
        *) failed+=("$t") ;;
    esac
done
[ ${#skipped[@]} -eq 0 ] || echo "skipped: ${skipped[*]}"
if [ ${#failed[@]} -ne 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all $# test files passed"

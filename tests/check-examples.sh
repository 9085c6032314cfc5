#!/usr/bin/env bash
# Every example validates; every examples/invalid/X.json is refused and its
# errors include each line of X.expected (a line "#errors N": exactly N
# errors); the JSON Schema agrees with the translator on the examples and on
# rules of every protocol form.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VPCCTL=$TOP/build/vpcctl
fails=0
for f in "$TOP"/examples/*.json; do
    if "$VPCCTL" validate "$f" >/dev/null; then echo "  ok   valid: ${f#$TOP/}"
    else echo "  FAIL valid: ${f#$TOP/}"; fails=$((fails + 1)); fi
done
for f in "$TOP"/examples/invalid/*.json; do
    out=$("$VPCCTL" validate "$f" 2>&1); rc=$?
    if [ "$rc" -ne 1 ]; then
        echo "  FAIL ${f#$TOP/}: exit $rc, wanted 1"; fails=$((fails + 1)); continue
    fi
    n_errors=$(grep -c '^  ' <<<"$out")
    while IFS= read -r want; do
        [ -z "$want" ] && continue
        if [[ $want =~ ^#errors\ ([0-9]+)$ ]]; then
            if [ "$n_errors" -ne "${BASH_REMATCH[1]}" ]; then
                echo "  FAIL ${f#$TOP/}: $n_errors errors, wanted ${BASH_REMATCH[1]}"
                fails=$((fails + 1))
            fi
            continue
        fi
        if ! grep -qF -- "$want" <<<"$out"; then
            echo "  FAIL ${f#$TOP/}: no error containing: $want"
            fails=$((fails + 1))
        fi
    done < "${f%.json}.expected"
    echo "  ok   invalid: ${f#$TOP/} ($n_errors errors)"
done
# The JSON Schema and the translator accept and refuse the same rules.
# Debian's python3-jsonschema serves /usr/bin/python3, which need not be
# the python3 first in PATH.
py=python3
python3 -c 'import jsonschema' 2>/dev/null || py=/usr/bin/python3
"$py" "$TOP/tests/check-schema-agree.py" "$VPCCTL" || fails=$((fails + 1))
[ "$fails" -eq 0 ]

#!/usr/bin/env bash
# tests/check-docs.sh [--update]: docs/pipeline.md's table of stages is the
# output of 'vpcctl pipeline-doc' (pipeline/stages.def).  Fails, with the
# difference, when it is stale; --update ('make docs') rewrites it.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
doc=$TOP/docs/pipeline.md
begin='^<!-- begin pipeline-doc'
end='^<!-- end pipeline-doc -->$'
grep -q "$begin" "$doc" && grep -q "$end" "$doc" \
    || { echo "FAIL: $doc has no pipeline-doc markers"; exit 1; }
gen=$(mktemp); trap 'rm -f "$gen" "$gen.md"' EXIT
"$TOP/build/vpcctl" pipeline-doc > "$gen" || exit 1
if [ "${1:-}" = --update ]; then
    awk -v gen="$gen" -v b="$begin" -v e="$end" '
        $0 ~ b { print; while ((getline l < gen) > 0) print l; skip = 1; next }
        $0 ~ e { skip = 0 }
        !skip' "$doc" > "$gen.md" && mv "$gen.md" "$doc"
    echo "docs/pipeline.md: table of stages rewritten"
    exit 0
fi
if diff -u <(sed -n "/$begin/,/$end/p" "$doc" | sed '1d;$d') "$gen"; then
    echo "PASS: docs/pipeline.md's table of stages matches pipeline/stages.def"
else
    echo "FAIL: docs/pipeline.md is stale; run 'make docs'"
    exit 1
fi

#!/usr/bin/env bash
# make install into a temporary DESTDIR puts every file where an operator
# expects it, and the installed binaries run.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
fails=0
make -s -C "$TOP" install DESTDIR="$D" PREFIX=/usr UNITDIR=/lib/systemd/system >/dev/null || exit 1
for f in usr/bin/vpcctl usr/sbin/vpcd lib/systemd/system/ovs-vpcd.service \
         etc/default/ovs-vpcd.example usr/share/doc/ovs-vpc/vpcd.md \
         usr/sbin/vpc-regiond usr/share/ovs-vpc/region.ovsschema \
         usr/share/ovs-vpc/region.schema.json usr/share/ovs-vpc/examples/web-tier.json \
         usr/sbin/vpc-regiondb-ctl lib/systemd/system/ovs-vpc-regiondb@.service \
         lib/systemd/system/ovs-vpc-regiondb-relay@.service \
         lib/systemd/system/ovs-vpc-regiond.service \
         etc/default/ovs-vpc-regiondb.example usr/share/doc/ovs-vpc/deploy.md \
         usr/share/bash-completion/completions/vpcctl; do
    if [ -e "$D/$f" ]; then echo "  ok   installed /$f"; else echo "  FAIL missing /$f"; fails=$((fails + 1)); fi
done
grep -q '^ExecStart=/usr/sbin/vpcd ' "$D/lib/systemd/system/ovs-vpcd.service" \
    && echo "  ok   the unit runs /usr/sbin/vpcd" || { echo "  FAIL unit ExecStart"; fails=$((fails + 1)); }
for u in ovs-vpc-regiondb@ ovs-vpc-regiondb-relay@; do
    grep -q '^ExecStart=/usr/sbin/vpc-regiondb-ctl start-' "$D/lib/systemd/system/$u.service" \
        && ! grep -q '@[A-Z]*@' "$D/lib/systemd/system/$u.service" \
        && echo "  ok   $u.service runs /usr/sbin/vpc-regiondb-ctl" \
        || { echo "  FAIL $u.service ExecStart"; fails=$((fails + 1)); }
done
grep -q '^ExecStart=/usr/sbin/vpc-regiond ' "$D/lib/systemd/system/ovs-vpc-regiond.service" \
    && echo "  ok   ovs-vpc-regiond.service runs /usr/sbin/vpc-regiond" \
    || { echo "  FAIL ovs-vpc-regiond.service ExecStart"; fails=$((fails + 1)); }
grep -q '^SCHEMA=.*/usr/share/ovs-vpc/region.ovsschema' "$D/usr/sbin/vpc-regiondb-ctl" \
    && "$D/usr/sbin/vpc-regiondb-ctl" --help | grep -q 'create-cluster' \
    && echo "  ok   installed vpc-regiondb-ctl --help, with the installed schema" \
    || { echo "  FAIL installed vpc-regiondb-ctl"; fails=$((fails + 1)); }
# systemd-analyze verify checks the units' syntax and that their programs
# exist: the instances are verified with the DESTDIR's paths (their
# ExecStart rewritten), when systemd-analyze is here.
if command -v systemd-analyze >/dev/null; then
    for u in ovs-vpc-regiondb@ ovs-vpc-regiondb-relay@ ovs-vpc-regiond; do
        mkdir -p "$D/verify"
        sed "s|/usr/sbin/|$D/usr/sbin/|" "$D/lib/systemd/system/$u.service" \
            > "$D/verify/${u}x.service"
        if out=$(cd "$D/verify" && systemd-analyze verify --man=no "${u}x.service" 2>&1) \
           && ! grep -q "${u}" <<<"$out"; then
            echo "  ok   systemd-analyze verify $u.service"
        else
            echo "  FAIL systemd-analyze verify $u.service: $out"; fails=$((fails + 1))
        fi
    done
else
    echo "  skip systemd-analyze not found: the units' syntax is not verified"
fi
"$D/usr/bin/vpcctl" validate "$D/usr/share/ovs-vpc/examples/web-tier.json" >/dev/null \
    && echo "  ok   installed vpcctl validates an installed example" || { echo "  FAIL installed vpcctl"; fails=$((fails + 1)); }
"$D/usr/sbin/vpcd" --help | grep -q -- '--host' \
    && echo "  ok   installed vpcd --help" || { echo "  FAIL installed vpcd"; fails=$((fails + 1)); }
"$D/usr/sbin/vpc-regiond" --help | grep -q -- '--region-db' \
    && echo "  ok   installed vpc-regiond --help" || { echo "  FAIL installed vpc-regiond"; fails=$((fails + 1)); }
# --version names the project's version (NEWS's newest) and the pinned
# Open vSwitch the binary was built against.
news=$(sed -n 's/^v\([0-9][0-9.]*\) .*/\1/p' "$TOP/NEWS" | head -1)
ovs=$(sed -n 's/^OVS_VERSION *:= *//p' "$TOP/ovs-ext/ovs.mk")
for p in usr/bin/vpcctl usr/sbin/vpcd usr/sbin/vpc-regiond; do
    out=$("$D/$p" --version 2>&1); rc=$?
    if [ "$rc" -eq 0 ] && grep -qx "${p##*/} (ovs-vpc) $news" <<<"$out" \
       && grep -q "^Open vSwitch $ovs " <<<"$out"; then
        echo "  ok   installed ${p##*/} --version: $(tr '\n' ' ' <<<"$out")"
    else
        echo "  FAIL ${p##*/} --version (exit $rc): $out"; fails=$((fails + 1))
    fi
done
# The installed completion, sourced into bash with the installed vpcctl,
# completes a command (tests/check-completion.sh tests the rest).
out=$(PATH=$D/usr/bin:/usr/bin:/bin bash -c '
    . "$1/usr/share/bash-completion/completions/vpcctl" || exit 1
    COMP_WORDS=(vpcctl valid); COMP_CWORD=1; _vpcctl vpcctl valid vpcctl
    echo "${COMPREPLY[*]}"' bash "$D" 2>&1)
[ "$out" = validate ] && echo "  ok   the installed completion completes 'vpcctl valid' to validate" \
    || { echo "  FAIL installed completion: '$out'"; fails=$((fails + 1)); }
# Man pages: installed, rendered by groff without a warning, and naming
# every option and command the program's --help lists (so that they cannot
# silently fall behind it).
for m in vpcctl:usr/bin vpcd:usr/sbin vpc-regiond:usr/sbin; do
    p=${m%%:*} page=$D/usr/share/man/man8/${m%%:*}.8
    if [ ! -f "$page" ]; then
        echo "  FAIL missing /usr/share/man/man8/$p.8"; fails=$((fails + 1)); continue
    fi
    echo "  ok   installed /usr/share/man/man8/$p.8"
    if command -v groff >/dev/null; then
        if out=$(groff -man -Tutf8 -ww -z "$page" 2>&1) && [ -z "$out" ]; then
            echo "  ok   groff -man renders $p(8) without warnings"
        else
            echo "  FAIL groff -man $p.8: $out"; fails=$((fails + 1))
        fi
    else
        echo "  skip groff not found (scripts/deps.sh: groff-base): $p(8) not rendered"
    fi
    # The page's words, with roff's escapes of '-' undone.
    text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$page")
    missing=
    for w in $("$D/${m#*:}/$p" --help | grep -Eo -- '--[a-z][a-z-]*' | sort -u) \
             $([ "$p" = vpcctl ] && "$D/usr/bin/vpcctl" --help \
                 | awk '/^Commands:/ { c = 1; next } /^describe kinds/ { c = 0 }
                        c && /^  [a-z]/ { print $1 }'); do
        grep -qF -- "$w" <<<"$text" || missing="$missing $w"
    done
    [ -z "$missing" ] && echo "  ok   $p(8) names every option and command of $p --help" \
        || { echo "  FAIL $p(8) does not name:$missing"; fails=$((fails + 1)); }
done
ovsdb=$TOP/build/ovs/ovsdb/ovsdb-tool
"$ovsdb" create "$D/region.db" "$D/usr/share/ovs-vpc/region.ovsschema" \
    && echo "  ok   ovsdb-tool creates a region database from the installed schema" \
    || { echo "  FAIL installed region.ovsschema"; fails=$((fails + 1)); }
[ "$fails" -eq 0 ]

#!/usr/bin/env bash
# tests/check-completion.sh: vpcctl's bash completion (cli/vpcctl.bash),
# sourced into this bash, completes commands, options, option values,
# describe's kinds and file names.  Its words come from the built vpcctl
# (--commands, --options, help): a command or option added to vpcctl's
# tables is completed at once.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
fails=0
PATH=$TOP/build:$PATH
cd "$TOP" || exit 1
# shellcheck source=/dev/null
. "$TOP/cli/vpcctl.bash" || { echo "  FAIL cannot source cli/vpcctl.bash"; exit 1; }
complete -p vpcctl >/dev/null 2>&1 && echo "  ok   'complete -F _vpcctl vpcctl' is registered" \
    || { echo "  FAIL no completion registered for vpcctl"; fails=$((fails + 1)); }

# comp EXPECTED WORD...: completes the last WORD of "vpcctl WORD..." (bash
# splits at '=' as its COMP_WORDBREAKS does: "--format = j") and checks that
# COMPREPLY, sorted and joined by spaces, is EXPECTED.
comp() {
    local expected=$1; shift
    COMP_WORDS=(vpcctl "$@"); COMP_CWORD=$#
    COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _vpcctl vpcctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    local got
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '); got=${got% }
    if [ "$got" = "$expected" ]; then
        echo "  ok   vpcctl $* <TAB>: $expected"
    else
        echo "  FAIL vpcctl $* <TAB>: got '$got', expected '$expected'"
        fails=$((fails + 1))
    fi
}
comp validate val
comp "compile" comp
comp "delete delete-dhcp-options delete-network-interface delete-route delete-security-group delete-vpc-peering-connection" delete
comp "--host=" compile examples/web-tier.json --ho
comp "--dry-run" --host h apply examples/web-tier.json --dry
comp "--region-db=" --reg
comp "--subnet-id=" create-network-interface --sub
comp "json" show --format = j
comp "action flows" compile --mapping = ""
comp "examples/web-tier.json" validate examples/web-t
comp "examples/web-tier.json" --host host-a compile examples/web-t
comp "network-acls network-interfaces" describe network-
comp "network-acls network-interfaces" describe examples/web-tier.json network-
# After "--host H" the next word is the command's.
comp "graph" --host host-a gra
# Every command of vpcctl's table, and nothing else, for an empty word.
want=$(vpcctl --commands | sort | tr '\n' ' '); want=${want% }
comp "$want" ""
[ "$(vpcctl --commands | grep -c .)" -gt 30 ] \
    && echo "  ok   vpcctl --commands lists the commands and verbs" \
    || { echo "  FAIL vpcctl --commands: $(vpcctl --commands | tr '\n' ' ')"; fails=$((fails + 1)); }
[ "$fails" -eq 0 ]

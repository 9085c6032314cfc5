# bash completion for vpcctl, installed in
# share/bash-completion/completions/vpcctl by 'make install'.
#
# The words come from vpcctl itself, so that they cannot fall behind it:
# 'vpcctl --commands' (its command table and the object-level verbs),
# 'vpcctl --options' (its getopt table: --NAME=ARG when NAME takes an
# argument) and the "describe kinds:" line of 'vpcctl help'.  Needs no
# bash-completion helper functions.  tests/check-completion.sh tests it.

# _vpcctl_values OPTION WORD: the values of OPTION that start with WORD.
_vpcctl_values() {
    case $1 in
    --format) compgen -W 'text json dot svg' -- "$2" ;;
    --mapping) compgen -W 'flows action' -- "$2" ;;
    --ct-state) compgen -W 'new est est,rpl rel rpl inv' -- "$2" ;;
    --private-key|--certificate|--ca-cert|--appctl|--bind) compgen -f -- "$2" ;;
    --psk-dir|--rundir) compgen -d -- "$2" ;;
    esac
}

_vpcctl() {
    local cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]}
    [[ $prog == */* && -x $prog ]] || prog=vpcctl
    COMPREPLY=()

    # The options that take an argument ("--host=ARG"), as one string.
    local options with_arg=' '
    options=$("$prog" --options 2>/dev/null) || return 0
    local o
    for o in $options; do
        [[ $o == --*=ARG ]] && with_arg+="${o%%=*} "
    done

    # An option's value: bash splits "--format=j" at '=' (COMP_WORDBREAKS)
    # into "--format" "=" "j", or "--format" "=" when the cursor follows
    # the '='; without '=' in COMP_WORDBREAKS it stays "--format=j".
    local i=$COMP_CWORD
    if [[ $cur == = ]]; then
        mapfile -t COMPREPLY < <(_vpcctl_values "${COMP_WORDS[i-1]}" '')
        return 0
    elif (( i >= 2 )) && [[ ${COMP_WORDS[i-1]} == = ]]; then
        mapfile -t COMPREPLY < <(_vpcctl_values "${COMP_WORDS[i-2]}" "$cur")
        return 0
    elif [[ $cur == --*=* ]]; then
        local v
        for v in $(_vpcctl_values "${cur%%=*}" "${cur#*=}"); do
            COMPREPLY+=("${cur%%=*}=$v")
        done
        return 0
    elif (( i >= 2 )) && [[ $with_arg == *" ${COMP_WORDS[i-1]} "* ]]; then
        mapfile -t COMPREPLY < <(_vpcctl_values "${COMP_WORDS[i-1]}" "$cur")
        return 0
    fi

    if [[ $cur == -* ]]; then
        for o in $options; do
            case $o in
            --*=ARG) o=${o%%=*}= ;;
            --*=\[ARG\]) o=${o%%=*} ;;
            --*) ;;
            *) continue ;;
            esac
            [[ $o == "$cur"* ]] && COMPREPLY+=("$o")
        done
        [[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
        return 0
    fi

    # The command is the first word that is neither an option nor an
    # option's value; 'args' are the words after it.
    local cmd='' w j args=()
    for ((j = 1; j < i; j++)); do
        w=${COMP_WORDS[j]}
        if [[ $w == = ]]; then
            ((j++))                     # "=" and the value after it.
        elif [[ $w == -* ]]; then
            if [[ $w != *=* && $with_arg == *" $w "* \
                  && ${COMP_WORDS[j+1]-} != = ]]; then
                ((j++))                 # "--host H".
            fi
        elif [[ -z $cmd ]]; then
            cmd=$w
        else
            args+=("$w")
        fi
    done

    if [[ -z $cmd ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$("$prog" --commands 2>/dev/null)" -- "$cur")
        return 0
    fi
    if [[ $cmd == describe ]]; then
        # describe [FILE] KIND [ID]: a kind until one is given.
        local kinds a
        kinds=$("$prog" help 2>/dev/null \
                | sed -n 's/^describe kinds: //p' | tr -d ,)
        for a in "${args[@]}"; do
            [[ " $kinds " == *" $a "* ]] && { kinds=; break; }
        done
        mapfile -t COMPREPLY < <(compgen -W "$kinds" -- "$cur")
    fi
    # A document (or, for vpn-config, a directory).
    compopt -o filenames 2>/dev/null
    mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
    return 0
}
complete -F _vpcctl vpcctl

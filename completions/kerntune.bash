# bash completion for kerntune. Install: copy to
# /usr/share/bash-completion/completions/kerntune (or source it from ~/.bashrc).
# Subcommands and options are read from `kerntune ... --help` at completion
# time, so they always match the installed binary.

_kerntune_help_words() {  # _kerntune_help_words BIN WORDS... → "subcommands|options"
  local bin=$1; shift
  local help
  help=$("$bin" "$@" --help 2>/dev/null) || return
  local subs opts
  subs=$(printf '%s\n' "$help" | awk '/^(SUBCOMMANDS|Subcommands):/{s=1;next} s&&/^  [a-z]/{print $1} s&&/^[^ ]/{s=0}')
  opts=$(printf '%s\n' "$help" | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' | sed -E 's/^[ ,]//' | sort -u)
  printf '%s|%s' "$(echo $subs)" "$(echo $opts)"
}

_kerntune() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  local bin=${COMP_WORDS[0]}
  # The subcommand path typed so far: leading words that are subcommands.
  local -a path=()
  local i w words
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    [[ $w == -* ]] && continue
    words=$(_kerntune_help_words "$bin" "${path[@]}")
    if [[ " ${words%%|*} " == *" $w "* ]]; then path+=("$w"); fi
  done
  case $prev in
    --db) COMPREPLY=($(compgen -f -X '!*.db' -- "$cur") $(compgen -d -- "$cur")); return ;;
    -o|--out|--work-dir|--recipe|--candidate|--baseline|--junit|--summary|--git) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --progress) COMPREPLY=($(compgen -W "auto tty lines quiet" -- "$cur")); return ;;
    --target) COMPREPLY=($(compgen -W "qemu libvirt ssh command" -- "$cur")); return ;;
    --direction) COMPREPLY=($(compgen -W "minimize maximize" -- "$cur")); return ;;
    --shipped|--ssh-key) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --host|--limit|--only|--space|--workload) return ;;
    --campaign|--name|--trials|--interval|--objective|-n|--seed|--trial|--repeats|--max-regression|--warmup|--metric) return ;;
    --bind|--port|--poll) return ;;   # dashboard
  esac
  words=$(_kerntune_help_words "$bin" "${path[@]}")
  local subs=${words%%|*} opts=${words#*|}
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -n $subs ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  else
    # Positional arguments are files (recipes, search spaces).
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _kerntune kerntune

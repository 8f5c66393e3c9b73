#!/usr/bin/env bash
# The bash completion completes subcommands, nested subcommands and options of
# the real binary; the zsh completion at least parses (zsh -n) when zsh exists.
set -euo pipefail
bin=$1 dir=$2
fail() { echo "FAIL: $*"; exit 1; }
# shellcheck disable=SC1091
source "$dir/kerntune.bash"
complete_words() {  # complete_words WORD... (the last one is being completed)
  COMP_WORDS=("$bin" "$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=()
  _kerntune
  echo "${COMPREPLY[*]}"
}
r=$(complete_words "")
for w in init tune trials best report status dashboard show space export verify gate; do [[ " $r " == *" $w "* ]] || fail "top level lacks '$w': $r"; done
r=$(complete_words "st")
[[ $r == "status" ]] || fail "'st' should complete to status, got: $r"
r=$(complete_words show "")
[[ " $r " == *" trial "* ]] || fail "'show' should offer trial: $r"
r=$(complete_words status --w)
[[ " $r " == *" --watch "* ]] || fail "'status --w' should offer --watch: $r"
r=$(complete_words show trial 3 --j)
[[ $r == "--json" ]] || fail "'show trial 3 --j' should complete to --json: $r"
r=$(complete_words export --fo)
[[ $r == "--force" ]] || fail "'export --fo' should complete to --force: $r"
r=$(complete_words gate --max)
[[ $r == "--max-regression" ]] || fail "'gate --max' should complete to --max-regression: $r"
r=$(complete_words dashboard --po)
[[ " $r " == *" --port "* && " $r " == *" --poll "* ]] || fail "'dashboard --po' should offer --port and --poll: $r"
r=$(complete_words tune --progress "l")
[[ $r == "lines" ]] || fail "--progress l: $r"
r=$(complete_words init --from-h)
[[ $r == "--from-host" ]] || fail "'init --from-h' should complete to --from-host: $r"
r=$(complete_words init --target "s")
[[ $r == "ssh" ]] || fail "init --target s: $r"
if command -v zsh >/dev/null; then
  zsh -n "$dir/_kerntune" || fail "zsh completion does not parse"
else
  echo "note: zsh not installed; the zsh completion was not syntax-checked"
fi
echo "ok"

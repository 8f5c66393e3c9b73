#!/usr/bin/env bash
# Generates kerntune.1 (roff) from the binary's own --help output, so the man
# page never drifts from the CLI: the top-level help, then every subcommand's
# help (found by walking the SUBCOMMANDS: sections), exit status and
# environment. No help2man needed.
#
#   man/generate-manpage.sh BUILD/kerntune OUT/kerntune.1 [--check]
#
# --check also renders the page with `man -l` (or groff) and fails when the
# rendering is empty, warns, or misses a subcommand.
set -euo pipefail
bin=${1:?usage: generate-manpage.sh KERNTUNE OUT.1 [--check]}
out=${2:?usage: generate-manpage.sh KERNTUNE OUT.1 [--check]}
check=${3:-}

version=$("$bin" --version | head -n1)
date=$(date -u +%Y-%m-%d)
[ -n "${SOURCE_DATE_EPOCH:-}" ] && date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)

# roff-escape help text: backslashes, leading dots/quotes.
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

subcommands() {  # prints the subcommand names listed in a help text (stdin)
  awk '/^(SUBCOMMANDS|Subcommands):/{s=1;next} s&&/^  [a-z]/{print $1} s&&/^[^ ]/{s=0}'
}

walk() {  # walk PATH...: emits "path words" lines, depth first
  local -a path=("$@")
  local help
  help=$("$bin" "${path[@]}" --help)
  [ ${#path[@]} -gt 0 ] && echo "${path[*]}"
  local sub
  for sub in $(printf '%s\n' "$help" | subcommands); do
    walk "${path[@]}" "$sub"
  done
}

{
  echo ".TH KERNTUNE 1 \"$date\" \"kerntune $version\" \"User Commands\""
  echo ".SH NAME"
  echo "kerntune \\- offline Linux kernel configuration autotuner"
  echo ".SH SYNOPSIS"
  echo ".B kerntune"
  echo "[\\fB\\-q\\fR|\\fB\\-v\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]"
  echo ".SH DESCRIPTION"
  echo ".nf"
  "$bin" --help | esc
  echo ".fi"
  echo ".SH COMMANDS"
  while read -r cmd; do
    echo ".SS \"kerntune $cmd\""
    echo ".nf"
    # shellcheck disable=SC2086
    "$bin" $cmd --help | esc
    echo ".fi"
  done < <(walk)
  cat <<'ROFF'
.SH EXIT STATUS
.TP
.B 0
success
.TP
.B 1
failure: an operation failed (I/O, database, no successful trial) or the gate found a regression
.TP
.B 2
bad input: a malformed recipe, search space or flag (FILE:LINE:COL: message on stderr)
.TP
.B 3
inconclusive (the CI gate: not enough evidence)
.TP
.B 130
stopped by SIGINT/SIGTERM; run the same command to resume
.SH ENVIRONMENT
.TP
.B KERNTUNE_DB
default database for \fB\-\-db\fR (otherwise ./kerntune.db)
.TP
.B NO_COLOR
when set, kerntune writes no colour escape sequences
.SH OUTPUT
Data (tables, JSON) goes to standard output; progress, logs and errors go to
standard error. JSON schemas of every \fB\-\-json\fR output ship in docs/schemas/.
.SH SEE ALSO
The user guide (docs/user-guide.md), docs/cli.md, docs/report.md, docs/recipes.md.
ROFF
} > "$out"

if [ "$check" = "--check" ]; then
  rendered=$(mktemp)
  trap 'rm -f "$rendered"' EXIT
  if command -v man >/dev/null; then
    MANWIDTH=100 man --warnings -l "$out" > "$rendered" 2> "$rendered.err" || { cat "$rendered.err"; exit 1; }
  elif command -v groff >/dev/null; then
    groff -man -Tutf8 -ww "$out" > "$rendered" 2> "$rendered.err"
  else
    echo "LOUD SKIP: neither man nor groff is installed; $out generated but not rendered" >&2
    exit 0
  fi
  if [ -s "$rendered.err" ]; then echo "roff warnings:"; cat "$rendered.err"; rm -f "$rendered.err"; exit 1; fi
  rm -f "$rendered.err"
  for must in "EXIT STATUS" "kerntune report" "kerntune status" "kerntune show trial" "kerntune tune" "Examples:"; do
    grep -q -- "$must" "$rendered" || { echo "rendered man page lacks '$must'"; exit 1; }
  done
  echo "ok: $out ($(wc -l < "$rendered") rendered lines)"
fi

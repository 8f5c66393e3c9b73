#!/usr/bin/env bash
# The layering check must fail on a tree where a low module includes a higher one.
set -u
checker=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts" "$tmp/src/space" "$tmp/src/cli"
cp "$checker" "$tmp/scripts/check-layering"
printf '#include "kerntune/campaign/campaign.hpp"\n' > "$tmp/src/space/bad.cpp"
if "$tmp/scripts/check-layering" 2>"$tmp/err"; then
  echo "check-layering passed a violating tree"; exit 1
fi
grep -q "module 'space' includes 'campaign'" "$tmp/err" || { cat "$tmp/err"; exit 1; }
echo "violation caught"

#!/usr/bin/env bash
# `comeback help` and docs/ agree: every command has a help text and a docs page, and every
# option its help mentions is documented on that page. Also --version and unknown commands.
set -euo pipefail
bin=${COMEBACK_BIN:?}
src=${COMEBACK_SOURCE_DIR:?}
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" --version | grep -Eq '^comeback [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]+|unknown\)' ||
  fail "--version"
set +e
"$bin" no-such-command 2>/dev/null; rc=$?
"$bin" 2>/dev/null; rc2=$?
"$bin" help no-such-command >/dev/null 2>&1; rc3=$?
set -e
[ "$rc" = 2 ] && [ "$rc2" = 2 ] && [ "$rc3" = 2 ] || fail "unknown command must exit 2 ($rc $rc2 $rc3)"

cmds=$("$bin" help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}')
[ -n "$cmds" ] || fail "comeback help lists no commands"
n=0
for c in $cmds; do
  [ "$c" = help ] && continue
  n=$((n + 1))
  text=$("$bin" help "$c") || fail "comeback help $c failed"
  grep -q "^usage: comeback $c" <<<"$text" || fail "help $c does not start with 'usage: comeback $c'"
  [ "$("$bin" "$c" --help)" = "$text" ] || fail "'comeback $c --help' differs from 'comeback help $c'"
  page="$src/docs/$c.md"
  [ -f "$page" ] || fail "docs/$c.md is missing"
  grep -q "comeback $c" "$page" || fail "docs/$c.md never names 'comeback $c'"
  for opt in $(echo "$text" | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
    [ "$opt" = "--help" ] && continue
    grep -q -- "$opt" "$page" || fail "docs/$c.md does not document $opt (from comeback help $c)"
  done
  grep -q "docs/$c.md" "$src/README.md" || fail "README.md does not point to docs/$c.md"
done
[ "$n" -ge 3 ] || fail "only $n commands"

#!/usr/bin/env bash
# `comeback rules check|eval`: the report, compiler-style errors with a caret, exact signal CSV
# on a hand-made fixture, --set overrides, and (with ../shared and the example plug-in) the
# plug-in and the rules file giving byte-identical signals on real candles.
set -u
bin=${COMEBACK_BIN:?}
fix=${COMEBACK_FIXTURES:?}/rules
src=${COMEBACK_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. check: parameters with ranges, indicators' warm-up, bars before the first signal.
"$bin" rules check "$src/examples/plugins/ema_cross/ema_cross.ini" >"$tmp/out" 2>"$tmp/err" \
  || fail "check ema_cross.ini: $(cat "$tmp/err")"
grep -q "^  fast             12  \[5..30 step 1\]$" "$tmp/out" || fail "fast range: $(cat "$tmp/out")"
grep -q "^  slow             26  \[20..100 step 5\]$" "$tmp/out" || fail "slow range"
grep -q "^  ema(close, 26) *lookback 25 *warm-up 25 bars$" "$tmp/out" || fail "ema warm-up"
grep -q "^warm-up     26 bars: the first signal can come on bar 27$" "$tmp/out" || fail "warm-up"
grep -q "^program     5 streaming nodes (2 indicators, 0 constants)" "$tmp/out" || fail "nodes"
[ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
"$bin" rules check "$src/examples/plugins/ema_cross/ema_cross.ini" --set fast=5 >"$tmp/out" \
  || fail "check --set"
grep -q "^  fast             5 (file: 12)  \[5..30 step 1\]$" "$tmp/out" || fail "--set shown"
grep -q "^  ema(close, 5) " "$tmp/out" || fail "--set compiled: $(cat "$tmp/out")"

# 2. errors: file:line:col, the line, a caret under the culprit, a suggestion; exit 1.
"$bin" rules check "$fix/bad.ini" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "bad.ini: exit $rc"
cat >"$tmp/want" <<EOF2
$fix/bad.ini:3:35: error: unknown function 'rsx'; did you mean 'rsi'?
    entry = crossover(ema(close, 12), rsx(close, 14))
                                      ^~~
1 error
EOF2
diff -u "$tmp/want" "$tmp/err" || fail "bad.ini diagnostics differ"
"$bin" rules check "$tmp/missing.ini" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "missing file: exit $rc"
grep -q "cannot open the strategy file" "$tmp/err" || fail "missing file message"
"$bin" rules check >/dev/null 2>&1; [ $? -eq 2 ] || fail "no FILE: usage error expected"
"$bin" rules frob x >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown subcommand"

# 3. eval: exact signals. close - 10 is -1 0 0 1 1 0 -1 0 1: touching then crossing counts once.
"$bin" rules eval "$fix/cross.ini" "$fix/tiny.csv" >"$tmp/out" || fail "eval"
cat >"$tmp/want" <<'CSV'
time_ms,entry,exit
1704067200000,0,0
1704070800000,0,0
1704074400000,0,0
1704078000000,1,0
1704081600000,0,0
1704085200000,0,0
1704088800000,0,1
1704092400000,0,0
1704096000000,1,0
CSV
diff -u "$tmp/want" "$tmp/out" || fail "eval output differs"
"$bin" rules eval "$fix/cross.ini" "$fix/tiny.csv" --set level=9.5 >"$tmp/out" || fail "eval --set"
[ "$(grep -c ',1,0$' "$tmp/out")" = 2 ] || fail "eval --set level=9.5: $(cat "$tmp/out")"
sed -n 3p "$tmp/out" | grep -q '^1704070800000,1,0$' || fail "eval --set first entry"
"$bin" rules eval "$fix/cross.ini" "$fix/tiny.csv" --set levl=9.5 >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown --set: exit $rc"
grep -q "unknown parameter 'levl'; did you mean 'level'?" "$tmp/err" || fail "--set message"

# 4. the example plug-in and its rules file agree on real candles.
data=${COMEBACK_SHARED_DATA:-}/ohlcv/binance_spot_BTCUSDT_1d_2017-08-17_2022-10-10.csv
plugin=$(dirname "$bin")/examples/plugins/ema_cross.so
if [ -f "$data" ] && [ -f "$plugin" ]; then
  printf '[strategy]\ntimeframe = 1d\nplugin = %s\n[params]\nfast = 12\nslow = 26\n' \
    "$plugin" >"$tmp/plugin.ini"
  "$bin" rules check "$tmp/plugin.ini" >"$tmp/out" || fail "check plug-in"
  grep -q "plug-in     'ema_cross', warm-up 26 bars" "$tmp/out" || fail "plug-in check: $(cat "$tmp/out")"
  "$bin" rules eval "$tmp/plugin.ini" "$data" >"$tmp/p.csv" || fail "eval plug-in"
  "$bin" rules eval "$src/examples/plugins/ema_cross/ema_cross.ini" "$data" >"$tmp/r.csv" \
    || fail "eval rules"
  cmp -s "$tmp/p.csv" "$tmp/r.csv" || fail "plug-in and rules signals differ"
  [ "$(grep -c ',1,0$' "$tmp/r.csv")" -gt 20 ] || fail "too few entries"
  # a relative plugin path is resolved against the strategy file's directory
  cp "$plugin" "$tmp/ema_cross.so"
  printf '[strategy]\nplugin = ema_cross.so\n[params]\nfast = 12\nslow = 26\n' >"$tmp/rel.ini"
  (cd / && "$bin" rules eval "$tmp/rel.ini" "$data" >"$tmp/rel.csv") || fail "relative plugin"
  cmp -s "$tmp/rel.csv" "$tmp/r.csv" || fail "relative plug-in signals differ"
  printf '[strategy]\nplugin = nothere.so\n' >"$tmp/nope.ini"
  "$bin" rules check "$tmp/nope.ini" >/dev/null 2>"$tmp/err"; rc=$?
  [ $rc -eq 1 ] || fail "missing plug-in: exit $rc"
  grep -q "nope.ini:2:10: error: $tmp/nothere.so: cannot load the plug-in" "$tmp/err" \
    || fail "missing plug-in message: $(cat "$tmp/err")"
fi
echo "rules: ok"

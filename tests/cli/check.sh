#!/usr/bin/env bash
# `comeback check`: a plug-in that reads one bar past its view is caught (exit 3, the bar
# named); the honest plug-in and a rules-language strategy pass; errors are clear.
set -euo pipefail
bin=${COMEBACK_BIN:?}
plugins=$(dirname "$bin")/examples/plugins
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v python3 >/dev/null || { echo "skipped: python3 absent"; exit 77; }
[ -f "$plugins/peek_ahead.so" ] && [ -f "$plugins/ema_cross.so" ] || fail "plug-ins not built in $plugins"

python3 - "$tmp/m.csv" <<'PY'
import math, random, sys
rnd = random.Random(5)
p, t = 100.0, 1577836800000
with open(sys.argv[1], "w") as f:
    f.write("time_ms,open,high,low,close,volume\n")
    for i in range(1500):
        c = p * math.exp(rnd.gauss(0, 0.02))
        f.write(f"{t + i * 86400000},{p:.4f},{max(p, c) * 1.01:.4f},{min(p, c) * 0.99:.4f},{c:.4f},100\n")
        p = float(f"{c:.4f}")
PY
cat > "$tmp/peek.ini" <<INI
[strategy]
name = peek
plugin = $plugins/peek_ahead.so
[backtest]
data = m.csv
pair = SYN/USDT
INI
cat > "$tmp/honest.ini" <<INI
[strategy]
name = ema-cross-plugin
plugin = $plugins/ema_cross.so
[params]
fast = 12
slow = 26
[backtest]
data = m.csv
pair = SYN/USDT
INI
cat > "$tmp/rules.ini" <<'INI'
[strategy]
name = rules
timeframe = 1d
entry = crossover(close, sma(close, 15)) and rsi(close, 14) < 70
exit = crossunder(close, sma(close, 15))
stoploss = 5%
[backtest]
data = m.csv
pair = SYN/USDT
INI

set +e
"$bin" check "$tmp/peek.ini" --cuts 10 > "$tmp/out" 2>&1; rc=$?
set -e
[ "$rc" = 3 ] || fail "peeking plug-in: exit $rc, expected 3: $(cat "$tmp/out")"
grep -q "^LOOKAHEAD: the decision at bar [0-9]* (20" "$tmp/out" || fail "message: $(cat "$tmp/out")"
"$bin" check "$tmp/honest.ini" --cuts 10 | grep -q "^No lookahead: " || fail "honest plug-in flagged"
"$bin" check "$tmp/rules.ini" | grep -q "^No lookahead: .* on 20 truncated copies" || fail "rules strategy flagged"
"$bin" check "$tmp/rules.ini" "$tmp/m.csv" --cuts 3 | grep -q "on 3 truncated copies" || fail "SERIES argument"

set +e
"$bin" check 2>/dev/null; r1=$?
"$bin" check "$tmp/rules.ini" --cuts zero 2>/dev/null; r2=$?
"$bin" check "$tmp/rules.ini" "$tmp/missing.csv" 2>"$tmp/err"; r3=$?
set -e
[ "$r1" = 2 ] && [ "$r2" = 2 ] || fail "usage errors must exit 2 ($r1 $r2)"
[ "$r3" = 1 ] && grep -q "missing.csv" "$tmp/err" || fail "missing series: $r3 $(cat "$tmp/err")"

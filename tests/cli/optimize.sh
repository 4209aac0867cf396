#!/usr/bin/env bash
# `comeback optimize` end to end on a generated market: the ranking, every statistic in the
# JSON, walk-forward folds, the same JSON for any --jobs, the HTML file, and exact errors.
set -euo pipefail
bin=${COMEBACK_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v python3 >/dev/null || { echo "skipped: python3 absent"; exit 77; }
# A seeded random walk of 6000 hourly candles (written here so the test depends on no generator).
python3 - "$tmp/market.csv" <<'PY'
import math, random, sys
rnd = random.Random(11)
p, t = 20000.0, 1577836800000
with open(sys.argv[1], "w") as f:
    f.write("time_ms,open,high,low,close,volume\n")
    for i in range(6000):
        c = p * math.exp(rnd.gauss(0, 0.006))
        hi, lo = max(p, c) * 1.002, min(p, c) * 0.998
        f.write(f"{t + i * 3600000},{p:.2f},{hi:.2f},{lo:.2f},{c:.2f},{rnd.uniform(1, 9):.3f}\n")
        p = float(f"{c:.2f}")
PY
cat > "$tmp/s.ini" <<'INI'
[strategy]
name = ema-cross
timeframe = 1h
entry = crossover(ema(close, fast), ema(close, slow))
exit = crossunder(ema(close, fast), ema(close, slow))
stoploss = 5%

[params]
fast = 5 [3..9 step 3]
slow = 20 [15..35 step 10]

[backtest]
data = market.csv
start_balance = 10000 USDT
stake = 25%
fee = 0.1%
INI

# Usage errors exit 2 with a sentence.
set +e
"$bin" optimize 2>/dev/null; r1=$?
"$bin" optimize "$tmp/s.ini" --objective luck 2>"$tmp/e1"; r2=$?
"$bin" optimize "$tmp/s.ini" --param fast=1:2 2>"$tmp/e2"; r3=$?
"$bin" optimize "$tmp/s.ini" --param nope=1:2:1 2>"$tmp/e3"; r4=$?
set -e
[ "$r1" = 2 ] && [ "$r2" = 2 ] && [ "$r3" = 2 ] || fail "usage errors must exit 2 ($r1 $r2 $r3)"
grep -q "expected sharpe, sortino, calmar, profit, sqn or profit_factor, got 'luck'" "$tmp/e1" ||
  fail "objective message: $(cat "$tmp/e1")"
grep -q 'expected name=lo:hi:step with three numbers, got "fast=1:2"' "$tmp/e2" ||
  fail "param message: $(cat "$tmp/e2")"
[ "$r4" = 1 ] && grep -q "nope" "$tmp/e3" || fail "unknown parameter: $r4 $(cat "$tmp/e3")"

# A grid with walk-forward, twice with different thread counts.
"$bin" optimize "$tmp/s.ini" --walk-forward 3 --luck-runs 100 --jobs 1 --json "$tmp/a.json" \
  --html "$tmp/a.html" > "$tmp/out1"
"$bin" optimize "$tmp/s.ini" --walk-forward 3 --luck-runs 100 --jobs 2 --json "$tmp/b.json" \
  --quiet > "$tmp/out2"
cmp -s "$tmp/a.json" "$tmp/b.json" || fail "JSON differs between --jobs 1 and --jobs 2"
# Indicator sharing off (every combination computes its own, bar by bar): the same JSON.
"$bin" optimize "$tmp/s.ini" --walk-forward 3 --luck-runs 100 --jobs 2 --indicator-cache 0 \
  --json "$tmp/c.json" --quiet > /dev/null
cmp -s "$tmp/a.json" "$tmp/c.json" || fail "JSON differs with --indicator-cache 0"
grep -q "Indicator sharing .* columns computed, reused" "$tmp/out1" || fail "no sharing line"
grep -q "^Verdict: " "$tmp/out1" || fail "no verdict line"
[ "$(wc -l < "$tmp/out2")" = 1 ] && grep -q "^Verdict: " "$tmp/out2" || fail "--quiet prints more than the verdict"
grep -q "9 combinations" "$tmp/out1" || fail "expected 3 x 3 combinations: $(head -1 "$tmp/out1")"
grep -q "Probability of Backtest Overfitting" "$tmp/out1" || fail "no PBO line"
grep -q "Walk-forward (3 folds, rolling)" "$tmp/out1" || fail "no walk-forward table"
grep -q "<html>" "$tmp/a.html" && grep -q "Verdict: " "$tmp/a.html" || fail "HTML report"
python3 - "$tmp/a.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for k in ("results", "best", "pbo", "deflated_sharpe", "luck_percentile", "walk_forward", "verdict"):
    assert k in j, k
assert len(j["results"]) == 9
d = j["deflated_sharpe"]
assert set(d) >= {"sharpe", "dsr", "p_value", "trials"} and d["trials"] == 9
assert len(j["walk_forward"]["folds"]) == 3
objs = [r["objective"] for r in j["results"] if r["objective"] is not None]
assert objs == sorted(objs, reverse=True), "results must be ranked best first"
assert j["best"] == j["results"][0]
PY
# A random search samples distinct points reproducibly.
"$bin" optimize "$tmp/s.ini" --search random --samples 4 --seed 3 --luck-runs 0 --json "$tmp/r.json" --quiet >/dev/null
python3 -c "import json,sys; j=json.load(open('$tmp/r.json')); assert len(j['results'])==4; assert j['luck_percentile'] is None"

#!/usr/bin/env bash
# `comeback optimize --shard i/N` and `comeback optimize merge`: the parts of a sweep, merged,
# give the same JSON as the unsharded run (grid with walk-forward and luck baseline, random
# search), in any order and with any --jobs; parts that are not one whole sweep are refused
# with exact messages naming the file.
set -euo pipefail
bin=${COMEBACK_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v python3 >/dev/null || { echo "skipped: python3 absent"; exit 77; }
python3 - "$tmp/market.csv" <<'PY'
import math, random, sys
rnd = random.Random(5)
p, t = 20000.0, 1577836800000
with open(sys.argv[1], "w") as f:
    f.write("time_ms,open,high,low,close,volume\n")
    for i in range(5000):
        c = p * math.exp(rnd.gauss(0, 0.006))
        hi, lo = max(p, c) * 1.002, min(p, c) * 0.998
        f.write(f"{t + i * 3600000},{p:.2f},{hi:.2f},{lo:.2f},{c:.2f},{rnd.uniform(1, 9):.3f}\n")
        p = float(f"{c:.2f}")
PY
cat > "$tmp/s.ini" <<'INI'
[strategy]
timeframe = 1h
entry = crossover(ema(close, fast), ema(close, slow)) and rsi(close, 14) < 70
exit = crossunder(ema(close, fast), ema(close, slow))
stoploss = 5%

[params]
fast = 5 [3..9 step 2]
slow = 20 [15..35 step 5]

[backtest]
data = market.csv
start_balance = 10000 USDT
stake = 25%
fee = 0.1%
INI
cd "$tmp"
opts=(--luck-runs 50 --walk-forward 2)
"$bin" optimize s.ini "${opts[@]}" --json full.json --quiet > /dev/null
for k in 1 2 3; do
  "$bin" optimize s.ini "${opts[@]}" --shard $k/3 --jobs $((k % 2 + 1)) --json part$k.json > out$k
done
grep -q "^Shard 2/3: combinations 8 to 14 of 20 evaluated; part written to part2.json" out2 ||
  fail "shard line: $(cat out2)"
"$bin" optimize merge part3.json part1.json part2.json --json merged.json --html merged.html \
  > merged.out
cmp -s full.json merged.json || fail "merged JSON differs from the unsharded run's"
grep -q "^Verdict: " merged.out && grep -q "Verdict: " merged.html || fail "merge report"

# A random search, in 2 shards.
"$bin" optimize s.ini --search random --samples 7 --seed 4 --luck-runs 0 --json rfull.json --quiet >/dev/null
for k in 1 2; do
  "$bin" optimize s.ini --search random --samples 7 --seed 4 --luck-runs 0 --shard $k/2 \
    --json r$k.json --quiet
done
"$bin" optimize merge r1.json r2.json --json rmerged.json --quiet > /dev/null
cmp -s rfull.json rmerged.json || fail "random search: merged JSON differs"

# Exact errors (exit 1 for bad parts, 2 for a bad command line).
expect() { # expect STATUS MESSAGE -- command...
  local want=$1 msg=$2
  shift 3
  set +e
  "$@" > /dev/null 2> err
  local got=$?
  set -e
  [ "$got" = "$want" ] || fail "$*: exit $got, expected $want ($(cat err))"
  grep -qxF "$msg" err || fail "$*: expected '$msg', got '$(cat err)'"
}
expect 1 "comeback: shard 3/3 is missing: merge needs every part of the sweep" -- \
  "$bin" optimize merge part1.json part2.json
expect 1 "comeback: part2.json: shard 2/3 again (already in part2.json)" -- \
  "$bin" optimize merge part1.json part2.json part2.json part3.json
"$bin" optimize s.ini "${opts[@]}" --fee 0.2% --shard 2/3 --json other2.json --quiet
expect 1 "comeback: other2.json: field 'sweep.settings.fee': differs from part1.json: the parts are of different sweeps" -- \
  "$bin" optimize merge part1.json other2.json part3.json
expect 1 "comeback: r1.json: field 'shards': 2 shards, but part1.json has 3: not the same split" -- \
  "$bin" optimize merge part1.json r1.json
expect 1 "comeback: full.json: not a part of a sharded sweep (written by comeback optimize --shard i/N --json FILE)" -- \
  "$bin" optimize merge full.json
printf '{"comeback": "optimize part",\n  "format": 1,, }' > broken.json
expect 1 "comeback: broken.json:2:15: not JSON: string or '}' expected near ','" -- \
  "$bin" optimize merge broken.json
expect 2 "comeback optimize: --shard: expected i/N with 1 <= i <= N, got '4/3'" -- \
  "$bin" optimize s.ini --shard 4/3 --json x.json
expect 2 "comeback optimize: --shard writes its part with --json FILE (and no --html: merge writes the report)" -- \
  "$bin" optimize s.ini --shard 1/3
expect 1 "comeback: --shard: shard 30/30 does not exist in a sweep of 20 combinations" -- \
  "$bin" optimize s.ini --shard 30/30 --json x.json
# The strategy changed after the parts were computed.
sed -i 's/stoploss = 5%/stoploss = 6%/' s.ini
expect 1 "comeback: s.ini: field 'sweep.strategy_sha256': differs from the sweep of part1.json: the strategy file, its data or the settings changed since the parts were computed" -- \
  "$bin" optimize merge part1.json part2.json part3.json
echo "optimize_shard: ok"

#!/usr/bin/env bash
# `comeback backtest` end to end: the rules-language SMA(15) crossover against backtrader's
# fills on real BTC/USDT daily candles (configs A and B), deterministic JSON, the report files,
# overrides from the command line and exact diagnostics.
set -euo pipefail
bin=${COMEBACK_BIN:?}
fx=${COMEBACK_FIXTURES:?}/engine
src_dir=${COMEBACK_SOURCE_DIR:?}
data=${COMEBACK_SHARED_DATA:-}/ohlcv/binance_spot_BTCUSDT_1d_2017-08-17_2022-10-10.csv
oracle=${COMEBACK_SHARED_DATA:-}/backtrader/backtrader_generated_BTCUSDT_1d_sma_crossover_backtest.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# diagnostics first (no shared data needed)
set +e
"$bin" backtest "$fx/badkey.ini" --data x.csv 2>"$tmp/err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "bad key: exit $rc"
grep -q "badkey.ini:8:1: \[backtest\]: unknown key 'fees'" "$tmp/err" || { cat "$tmp/err"; fail "bad key message"; }
set +e
"$bin" backtest 2>/dev/null; rc=$?
"$bin" backtest "$fx/sma15.ini" --bogus 2>/dev/null; rc2=$?
set -e
[ "$rc" = 2 ] && [ "$rc2" = 2 ] || fail "usage errors must exit 2 ($rc, $rc2)"

# the demo ends with a real backtest of an example strategy and writes both reports
COMEBACK_HOME="$tmp/home" "$bin" demo --bars 20000 >"$tmp/demo.txt"
grep -q "Backtest: ema-cross-rsi" "$tmp/demo.txt" || fail "demo: no backtest summary"
grep -q "<svg" "$tmp/home/demo/report.html" || fail "demo: no HTML report"
grep -q '"final_balance"' "$tmp/home/demo/result.json" || fail "demo: no JSON"

if [ ! -f "$data" ] || [ ! -f "$oracle" ]; then echo "skipped: shared data absent"; exit 77; fi
command -v python3 >/dev/null || { echo "skipped: python3 absent"; exit 77; }

# config A: 100000 USDT, 1 BTC, no commission (from the file)
"$bin" backtest "$fx/sma15.ini" --data "$data" --json "$tmp/a.json" --trades "$tmp/a.csv" \
    --html "$tmp/a.html" --equity >"$tmp/a.txt"
"$bin" backtest "$fx/sma15.ini" --data "$data" --json "$tmp/a2.json" --equity --quiet
cmp -s "$tmp/a.json" "$tmp/a2.json" || fail "JSON differs between two identical runs"
# config B: the command line overrides the file
"$bin" backtest "$fx/sma15.ini" --data "$data" --start-balance "10000 USDT" --stake "0.1 BTC" \
    --fee 0.1% --json "$tmp/b.json" --quiet
grep -q "Final balance" "$tmp/a.txt" || fail "no summary"
grep -q "<svg" "$tmp/a.html" || fail "no SVG in the HTML"
[ "$(wc -l <"$tmp/a.csv")" = 122 ] || fail "trades CSV: expected 121 rows"

python3 - "$oracle" "$tmp/a.json" "$tmp/b.json" <<'PY'
import json, sys
from datetime import datetime, timezone
oracle = json.load(open(sys.argv[1]))
for run, path in zip(oracle["runs"], sys.argv[2:]):
    ours = json.load(open(path))
    day = lambda ms: datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d")
    fills = []
    for t in ours["trades"]:
        fills.append(("buy", day(t["entry_time_ms"]), t["entry_price"]))
        fills.append(("sell", day(t["exit_time_ms"]), t["exit_price"]))
    theirs = [(o["side"], o["executed_date"], float(o["executed_price"])) for o in run["orders"]]
    assert len(fills) == len(theirs), (len(fills), len(theirs))
    for a, b in zip(fills, theirs):
        assert a[0] == b[0] and a[1] == b[1] and abs(a[2] - b[2]) < 1e-9, (a, b)
    m = ours["metrics"]
    want = round(float(run["final_value"]), 6)
    assert abs(m["final_balance"] - want) < 1e-9, (m["final_balance"], want)
    assert abs(m["max_drawdown_pct"] - float(run["max_drawdown_pct"])) < 1e-9
    assert abs(m["max_drawdown_abs"] - float(run["max_drawdown_money"])) < 1e-6
    assert abs(m["sqn"] - float(run["sqn"])) < 1e-9
    assert m["trades"] == run["trade_analyzer"]["total"]
    assert ours["data"][0]["sha256"] and len(ours["data"][0]["sha256"]) == 64
    print(run["config"]["name"], "matches backtrader:", len(fills), "fills, final", m["final_balance"])
PY

# --set overrides a parameter: a different period gives a different result
"$bin" backtest "$fx/sma15.ini" --data "$data" --set period=30 --json "$tmp/c.json" --quiet
! cmp -s "$tmp/a.json" "$tmp/c.json" || fail "--set period=30 changed nothing"
grep -q '"params": "period=30"' "$tmp/c.json" || fail "config does not record the parameter"
echo ok

# every example strategy runs and balances (the engine fails the run otherwise)
for ex in "$src_dir"/examples/strategies/*.ini; do
  "$bin" backtest "$ex" --quiet --json "$tmp/ex.json" || fail "example $(basename "$ex")"
  grep -q '"trades": [1-9]' "$tmp/ex.json" || fail "example $(basename "$ex") made no trades"
done
echo "examples ok"

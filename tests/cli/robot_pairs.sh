#!/usr/bin/env bash
# Backtest-live parity with two pairs sharing one account and max_open_trades = 1 (so the pairs
# compete for the slot, and the order in which a bar's candles are processed matters): the
# paper robot over a simulator replay makes exactly the trades of `comeback backtest`.
set -euo pipefail
BIN=${COMEBACK_BIN:?}
command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 77; }
tmp=$(mktemp -d)
sim=
bot=
cleanup() {
  [ -n "$bot" ] && kill -9 "$bot" 2>/dev/null
  [ -n "$sim" ] && kill "$sim" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -20 "$tmp"/run.err 2>/dev/null; exit 1; }
cd "$tmp"

"$BIN" data synth --bars 400 --timeframe 1h --seed 7 --pair BTC/USDT --start 2024-01-01 \
  --start-price 40000 --out btc.csv >/dev/null
"$BIN" data synth --bars 400 --timeframe 1h --seed 8 --pair ETH/USDT --start 2024-01-01 \
  --start-price 2000 --out eth.csv >/dev/null
"$BIN" exchange-sim --data BTC/USDT=btc.csv,ETH/USDT=eth.csv --listen 127.0.0.1:0 \
  --port-file port --speed paused --start 2024-01-08 --quiet 2> sim.log &
sim=$!
for _ in $(seq 50); do [ "$(cat port 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
[ "$(cat port | wc -l)" -ge 2 ] || fail "the simulator did not start: $(cat sim.log)"
API=$(sed -n 1p port); WS=$(sed -n 2p port)
cat > bot.ini <<INI
[strategy]
name = ema-cross
timeframe = 1h
entry = crossover(ema(close, 8), ema(close, 21))
exit = crossunder(ema(close, 8), ema(close, 21))
stoploss = 4%
trailing_stop = 2%
trailing_offset = 1%

[backtest]
start_balance = 5000 USDT
stake = 20%
fee = 0.1%
max_open_trades = 1

[pairs]
BTC/USDT = tick=0.01 step=0.00001 min_notional=5
ETH/USDT = tick=0.01 step=0.0001 min_notional=5

[exchange]
api_url = http://127.0.0.1:$API
ws_url = ws://127.0.0.1:$WS

[bot]
name = pairs
pairs = BTC/USDT, ETH/USDT
history = 5000
log = bot.log.jsonl
INI

"$BIN" run bot.ini 2> run.err &
bot=$!
for _ in $(seq 100); do grep -q "market stream connected" run.err && break; sleep 0.1; done
grep -q "market stream connected" run.err || fail "the robot did not connect"
bars=0
for _ in 1 2 3 4 5; do
  curl -s --max-time 5 -X POST "http://127.0.0.1:$API/sim/v1/advance?candles=40" >/dev/null
  bars=$((bars + 40))
  for _ in $(seq 200); do
    [ "$(grep -c '"event":"decision"' bot.log.jsonl)" -ge $((2 * bars)) ] && break; sleep 0.05
  done
done
[ "$(grep -c '"event":"decision"' bot.log.jsonl)" = $((2 * bars)) ] || fail "not every bar decided"
sleep 0.3
kill -TERM "$bot"; set +e; wait "$bot"; rc=$?; set -e; bot=
[ $rc = 0 ] || fail "SIGTERM: exit status $rc"
last=$("$BIN" status --db pairs.paper.sqlite --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_bar_ms"])')
to=$(python3 -c "import datetime; print(datetime.datetime.utcfromtimestamp($last/1000).strftime('%Y-%m-%d %H:%M'))")
"$BIN" backtest bot.ini --data btc.csv,eth.csv --pair BTC/USDT,ETH/USDT --from 2024-01-08 \
  --to "$to" --trades bt.csv --quiet
"$BIN" trades --db pairs.paper.sqlite --json > fills.json
python3 - <<'PY' || fail "paper trades differ from the backtest's"
import csv, json
from decimal import Decimal as D
bt = [r for r in csv.DictReader(open("bt.csv")) if r["exit_reason"] != "end_of_data"]
open_buy, trips = {}, []
for f in json.load(open("fills.json")):
    if f["side"] == "buy":
        assert f["pair"] not in open_buy, "two buys in a row in " + f["pair"]
        open_buy[f["pair"]] = f
    else:
        b = open_buy.pop(f["pair"])
        trips.append((f["pair"], b["time_ms"], D(b["price"]), f["time_ms"], D(f["price"]), D(b["quantity"])))
want = sorted((t["pair"], int(t["entry_time_ms"]), D(t["entry_price"]), int(t["exit_time_ms"]),
               D(t["exit_price"]), D(t["quantity"])) for t in bt)
got = sorted(trips)
assert len(set(t[0] for t in want)) == 2, "the backtest should trade both pairs"
assert got == want, "paper %d trips, backtest %d; first difference: %s" % (
    len(got), len(want), next(((g, w) for g, w in zip(got, want) if g != w), None))
print("parity: %d trades over 2 pairs identical" % len(want))
PY
echo ok

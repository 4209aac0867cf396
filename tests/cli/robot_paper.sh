#!/usr/bin/env bash
# The robot in paper mode against `comeback exchange-sim` on loopback (paused clock, advanced
# with /sim/v1/advance for determinism):
#  1. backtest-live parity: the same trades (times, prices, quantities) as `comeback backtest`
#     on the same series, strategy and settings, across a SIGKILL and a restart made while a
#     position is open (it is restored with its exits, never entered twice);
#  2. the control commands: pause (entries refused, logged with the reason), resume,
#     forceexit, stop (exit 0), and SIGTERM (exit 0);
#  3. status, orders and trades read the paper journal.
set -euo pipefail
BIN=${COMEBACK_BIN:?}
FIX=${COMEBACK_FIXTURES:?}/robot
command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 77; }
tmp=$(mktemp -d)
sim=
bot=
cleanup() {
  [ -n "$bot" ] && kill -9 "$bot" 2>/dev/null
  [ -n "$sim" ] && kill "$sim" 2>/dev/null
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- robot log"; tail -30 "$tmp"/run*.err 2>/dev/null; exit 1; }
cd "$tmp"

"$BIN" data synth --bars 700 --timeframe 1h --seed 7 --pair BTC/USDT --start 2024-01-01 \
  --start-price 40000 --out btc.csv >/dev/null
"$BIN" exchange-sim --data BTC/USDT=btc.csv --listen 127.0.0.1:0 --port-file port \
  --speed paused --start 2024-01-11 --quiet 2> sim.log &
sim=$!
for _ in $(seq 50); do [ "$(cat port 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
[ "$(wc -l < port)" -ge 2 ] || fail "the simulator did not start: $(cat sim.log)"
API=$(sed -n 1p port); WS=$(sed -n 2p port)
URL="http://127.0.0.1:$API"
sed "s/@API@/$API/; s/@WS@/$WS/" "$FIX/bot.ini" > bot.ini
DB=parity.paper.sqlite

# status --json field
field() { "$BIN" status --db "$DB" --json | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
decisions() { grep -c '"event":"decision"' bot.log.jsonl 2>/dev/null || true; }
done_bars=0
# advance N candles and wait until the robot has decided on each (one decision per bar)
advance() {
  local n=$1 k
  while [ "$n" -gt 0 ]; do
    k=$(( n > 50 ? 50 : n )); n=$((n - k))
    curl -s --max-time 5 -X POST "$URL/sim/v1/advance?candles=$k" >/dev/null
    done_bars=$((done_bars + k))
    for _ in $(seq 200); do [ "$(decisions)" -ge "$done_bars" ] && break; sleep 0.05; done
    [ "$(decisions)" -ge "$done_bars" ] || fail "the robot did not decide on $done_bars bars"
  done
  sleep 0.1 # the bar's transaction and status follow the decision
}
start_bot() { # $1 = log suffix
  "$BIN" run bot.ini --dry-run-balance "10000 USDT" 2> "run$1.err" &
  bot=$!
  for _ in $(seq 100); do grep -q "market stream connected" "run$1.err" && return 0; sleep 0.1; done
  fail "the robot did not connect"
}
open_positions() { field '["positions"].__len__()'; }
S=1704931200000 # 2024-01-11, the simulator's start
H=3600000

# The backtest of the whole replay says where positions are held: the robot is killed while
# holding the first position that lasts a few bars.
"$BIN" backtest bot.ini --data btc.csv --pair BTC/USDT --from 2024-01-11 --trades full.csv --quiet
kill_at=$(python3 -c '
import csv
for t in csv.DictReader(open("full.csv")):
    if int(t["bars_held"]) >= 3 and t["exit_reason"] != "end_of_data":
        print(int(t["entry_time_ms"])); break')
[ -n "$kill_at" ] || fail "no trade of 3 bars in the backtest"

# ---- 1. parity across a SIGKILL ----------------------------------------------------------
start_bot 1
grep -q "exits: stop-loss simulated by the fill model" run1.err ||
  fail "the robot did not say where its exits live"
advance $(( (kill_at - S) / H + 1 ))
[ "$(open_positions)" = 1 ] || fail "no position open after the bar of $kill_at"
held=$(field '["positions"][0]["quantity"]')
kill -9 "$bot"; wait "$bot" 2>/dev/null || true; bot=
start_bot 2
grep -q "position held before the restart restored: $held" run2.err ||
  fail "the position ($held) was not restored"
[ "$(open_positions)" = 1 ] || fail "the restored position is not in the status"
advance 80
last=$(field '["last_bar_ms"]')
kill -TERM "$bot"; set +e; wait "$bot"; rc=$?; set -e; bot=
[ $rc = 0 ] || fail "SIGTERM: exit status $rc"
grep -q "stopped cleanly" run2.err || fail "no clean stop logged"

to=$(python3 -c "import datetime; print(datetime.datetime.utcfromtimestamp($last/1000).strftime('%Y-%m-%d %H:%M'))")
"$BIN" backtest bot.ini --data btc.csv --pair BTC/USDT --from 2024-01-11 --to "$to" \
  --trades bt.csv --quiet
"$BIN" trades --db "$DB" --json > fills.json
python3 - <<'EOF' || fail "paper trades differ from the backtest's"
import csv, json
from decimal import Decimal as D
bt = [r for r in csv.DictReader(open("bt.csv")) if r["exit_reason"] != "end_of_data"]
fills = json.load(open("fills.json"))
trips, buy = [], None
for f in fills:
    if f["side"] == "buy":
        assert buy is None, "two buys in a row: a position was entered twice"
        buy = f
    else:
        assert buy is not None, "a sell without a position"
        trips.append((buy, f)); buy = None
assert len(bt) >= 5, "too few backtest trades to compare: %d" % len(bt)
assert len(trips) == len(bt), "paper %d round trips, backtest %d" % (len(trips), len(bt))
for (b, s), t in zip(trips, bt):
    got = (b["time_ms"], D(b["price"]), s["time_ms"], D(s["price"]), D(b["quantity"]), D(s["quantity"]))
    want = (int(t["entry_time_ms"]), D(t["entry_price"]), int(t["exit_time_ms"]),
            D(t["exit_price"]), D(t["quantity"]), D(t["quantity"]))
    assert got == want, "paper %s != backtest %s" % (got, want)
print("parity: %d trades identical" % len(bt))
EOF
grep -q '"event":"restored"' bot.log.jsonl || fail "no restored event in the JSON log"
"$BIN" orders bot.ini | grep >/dev/null "cb-parity-1 " || fail "orders: no cb-parity-1"

# ---- 2. controls -------------------------------------------------------------------------
start_bot 3
"$BIN" pause --db "$DB" | grep >/dev/null "pause requested" || fail "pause"
for _ in $(seq 40); do [ "$(field '["paused"]')" = True ] && break; sleep 0.1; done
[ "$(field '["paused"]')" = True ] || fail "the robot did not pause"
"$BIN" status --db "$DB" | grep >/dev/null "PAUSED" || fail "status does not show the pause"
n_before=$(grep -c '"event":"refused"' bot.log.jsonl || true)
for _ in $(seq 100); do
  advance 1
  [ "$(grep -c '"reason":"paused"' bot.log.jsonl || true)" -gt 0 ] && break
done
grep '"event":"refused"' bot.log.jsonl | grep >/dev/null '"reason":"paused"' ||
  fail "no entry refused while paused (refusals before: $n_before)"
grep -q "entry of .* refused (paused)" run3.err || fail "the refusal is not on stderr"
"$BIN" resume --db "$DB" >/dev/null
for _ in $(seq 40); do [ "$(field '["paused"]')" = False ] && break; sleep 0.1; done
[ "$(field '["paused"]')" = False ] || fail "the robot did not resume"
opened=0
for _ in $(seq 100); do
  advance 1
  if grep -q "position opened at .* resting exits" run3.err; then opened=1; break; fi
done
[ $opened = 1 ] || fail "no entry after resume"
"$BIN" forceexit BTC/USDT --db "$DB" | grep >/dev/null "forceexit BTC/USDT requested" || fail "forceexit"
for _ in $(seq 40); do grep -q "forced exit requested by the operator: market exit sent" run3.err && break; sleep 0.1; done
grep -q "market exit sent" run3.err || fail "the forced exit was not sent"
advance 1
[ "$(open_positions)" = 0 ] || fail "the forced exit did not close the position"
"$BIN" trades --db "$DB" | tail -1 | grep >/dev/null " sell " || fail "the last trade is not the forced sell"
"$BIN" stop --db "$DB" >/dev/null
set +e; wait "$bot"; rc=$?; set -e; bot=
[ $rc = 0 ] || fail "comeback stop: exit status $rc"
[ "$(field '["state"]')" = stopped ] || fail "state after stop: $(field '["state"]')"
"$BIN" status --db "$DB" | grep >/dev/null "^state      stopped" || fail "status after stop"
echo "ok"

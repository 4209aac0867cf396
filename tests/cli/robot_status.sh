#!/usr/bin/env bash
# What a person sees of a paper robot, against `comeback exchange-sim` (paused clock started in
# the middle of a candle):
#  1. history = N loads N closed candles (also the default: warm-up + 200);
#  2. status, orders and trades find the journal in the bot's directory without --db;
#  3. a readable status: amounts with units, limits used and left, the next reset, no raw risk
#     dump, no unset exit shown as 0;
#  4. forceexit/forceentry: malformed and unknown pairs refused at once (nothing requested), the
#     robot's answer shown, force_entry/force_exit recorded, an entry refused by the risk checks
#     (paused) shown and logged, a request for a pair it does not trade expired by the robot;
#  5. liveness: stalled (SIGSTOP), running again (SIGCONT), not running right after SIGKILL;
#  6. dust: a holding below the minimum notional left in the journal is not restored as a
#     position at the restart; the robot trades again.
set -euo pipefail
BIN=${COMEBACK_BIN:?}
FIX=${COMEBACK_FIXTURES:?}/robot
command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 77; }
tmp=$(mktemp -d)
sim=
bot=
cleanup() {
  [ -n "$bot" ] && { kill -CONT "$bot" 2>/dev/null; kill -9 "$bot" 2>/dev/null; }
  [ -n "$sim" ] && kill "$sim" 2>/dev/null
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- robot log"; tail -20 "$tmp"/run*.err 2>/dev/null; exit 1; }
cd "$tmp"

"$BIN" data synth --bars 700 --timeframe 1h --seed 7 --pair BTC/USDT --start 2024-01-01 \
  --start-price 40000 --out btc.csv >/dev/null
"$BIN" exchange-sim --data BTC/USDT=btc.csv --listen 127.0.0.1:0 --port-file port \
  --speed paused --start "2024-01-11 00:30" --quiet 2> sim.log &
sim=$!
for _ in $(seq 50); do [ "$(cat port 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
[ "$(wc -l < port)" -ge 2 ] || fail "the simulator did not start: $(cat sim.log)"
API=$(sed -n 1p port); WS=$(sed -n 2p port)
URL="http://127.0.0.1:$API"
{ sed "s/@API@/$API/; s/@WS@/$WS/; s/^history = 5000/history = 100/" "$FIX/bot.ini"
  printf 'max_trades_per_day = 5\nmax_daily_loss = 5%%\nmax_drawdown = 20%%\n'; } > bot.ini
DB=parity.paper.sqlite

field() { "$BIN" status --json | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
decisions() { grep -c '"event":"decision"' bot.log.jsonl 2>/dev/null || true; }
done_bars=0
advance() {
  curl -s --max-time 5 -X POST "$URL/sim/v1/advance?candles=$1" >/dev/null
  done_bars=$((done_bars + $1))
  for _ in $(seq 200); do [ "$(decisions)" -ge "$done_bars" ] && break; sleep 0.05; done
  [ "$(decisions)" -ge "$done_bars" ] || fail "the robot did not decide on $done_bars bars"
  sleep 0.2
}
start_bot() { # $1 = log suffix
  "$BIN" run bot.ini 2> "run$1.err" &
  bot=$!
  for _ in $(seq 100); do grep -q "market stream connected" "run$1.err" && return 0; sleep 0.1; done
  fail "the robot did not connect"
}
kv() { python3 -c "
import sqlite3, sys
r = sqlite3.connect('$DB').execute('SELECT value FROM kv WHERE key = ?', ('$1',)).fetchone()
print(r[0] if r else '-')"; }

# ---- 1. history ------------------------------------------------------------------------------
start_bot 1
grep -q "BTC/USDT: 100 closed 1h candles loaded" run1.err ||
  fail "history = 100: $(grep history run1.err)"

# ---- 2. the journal found in the bot's directory -------------------------------------------
"$BIN" status > st.txt || fail "status without --db in the bot's directory"
grep -q "^bot        parity (paper mode), pairs BTC/USDT" st.txt || fail "status: $(cat st.txt)"
"$BIN" orders --json > /dev/null || fail "orders --json without --db"
"$BIN" trades --json > /dev/null || fail "trades --json without --db"

# ---- 3. a readable status --------------------------------------------------------------------
advance 2
"$BIN" status > st.txt
grep -q "^state      running, pid $bot, heartbeat [0-9]* s ago, up " st.txt || fail "state: $(cat st.txt)"
grep -q "v=1 day=" st.txt && fail "the raw risk state is shown: $(cat st.txt)"
grep -q "^           trades today 0 of 5 (5 left); open trades 0 of 3 (3 left)" st.txt ||
  fail "trades and open trades used and left: $(cat st.txt)"
grep -q "^           daily loss [0-9.]* USDT of 500 USDT ([0-9.]* USDT left; the day started at 10000 USDT)" st.txt ||
  fail "daily loss: $(cat st.txt)"
grep -q "^           drawdown [0-9.]*% of 20% from the peak 10000 USDT (then: halt)" st.txt ||
  fail "drawdown: $(cat st.txt)"
grep -q "^           daily counters reset at 2024-01-12 00:00 UTC" st.txt || fail "reset: $(cat st.txt)"
grep -q "max position\|cooldown" st.txt && fail "unset limits are shown: $(cat st.txt)"
[ "$(field '["risk"]["max_trades_per_day"]')" = 5 ] || fail "risk in JSON"

# ---- 4. forced exits and entries ---------------------------------------------------------------
set +e
"$BIN" forceexit ETHUSDT > out.txt 2> err.txt; rc=$?
[ $rc = 2 ] && grep -q "expected a pair such as BTC/USDT, got 'ETHUSDT'" err.txt ||
  { set -e; fail "forceexit ETHUSDT: $rc $(cat out.txt err.txt)"; }
"$BIN" forceexit btc/usdt 2> err.txt; rc=$?
[ $rc = 2 ] && grep -q "the robot trades it as BTC/USDT" err.txt || { set -e; fail "btc/usdt: $rc"; }
"$BIN" forceexit XRP/USDT > out.txt 2> err.txt; rc=$?
[ $rc = 1 ] && grep -q "the robot does not trade XRP/USDT (its pairs: BTC/USDT)" err.txt &&
  ! grep -q requested out.txt || { set -e; fail "forceexit XRP/USDT: $rc $(cat out.txt err.txt)"; }
"$BIN" forceentry DOGE/USDT 2> err.txt; rc=$?
[ $rc = 1 ] || { set -e; fail "forceentry DOGE/USDT: $rc"; }
set -e
[ "$(kv control.forceexit.XRP/USDT)" = - ] && [ "$(kv control.forceexit.ETHUSDT)" = - ] ||
  fail "a refused pair was left in the journal"
# a request the robot cannot serve (left by an older comeback, say) expires with its reason
python3 -c "
import sqlite3, time
c = sqlite3.connect('$DB', timeout=5)
c.execute(\"INSERT INTO kv(key, value) VALUES('control.forceexit.XRP/USDT', ?)\", (str(int(time.time() * 1000)),))
c.commit()"
for _ in $(seq 30); do case $(kv control.forceexit.XRP/USDT) in done*) break ;; esac; sleep 0.1; done
[ "$(kv control.forceexit.XRP/USDT)" = "done expired: XRP/USDT is not traded by this robot (its pairs: BTC/USDT)" ] ||
  fail "an unservable request: $(kv control.forceexit.XRP/USDT)"
grep -q "XRP/USDT: forced exit requested by the operator: expired" run1.err || fail "the expiry is not logged"
# nothing to exit
set +e
"$BIN" forceexit BTC/USDT > out.txt; rc=$?
set -e
[ $rc = 1 ] && grep -q "^forceexit BTC/USDT: refused: no position in BTC/USDT" out.txt ||
  fail "forceexit when flat: $rc $(cat out.txt)"
# an entry through the risk checks: refused while paused, shown and logged
"$BIN" pause > /dev/null
for _ in $(seq 40); do [ "$(field '["paused"]')" = True ] && break; sleep 0.1; done
set +e
"$BIN" forceentry BTC/USDT > out.txt; rc=$?
set -e
[ $rc = 1 ] && grep -q "^forceentry BTC/USDT: refused: paused: trading is paused by the operator" out.txt ||
  fail "forceentry while paused: $rc $(cat out.txt)"
grep -q "entry of .* refused (paused)" run1.err || fail "the refused forced entry is not logged"
"$BIN" resume > /dev/null
for _ in $(seq 40); do [ "$(field '["paused"]')" = False ] && break; sleep 0.1; done
"$BIN" forceentry BTC/USDT > out.txt || fail "forceentry: $(cat out.txt)"
grep -q "^forceentry BTC/USDT: ok: market entry sent" out.txt || fail "forceentry: $(cat out.txt)"
advance 1
[ "$(field '["positions"].__len__()')" = 1 ] || fail "the forced entry did not open a position"
"$BIN" status > st.txt
grep -q "^  BTC/USDT   [0-9.]* BTC at [0-9.]* USDT (entered .*), last [0-9.]* USDT, unrealised -*[0-9.]* USDT; stop [0-9.]* USDT, take-profit [0-9.]* USDT$" st.txt ||
  fail "the position line: $(cat st.txt)"
grep -q "trades today 1 of 5 (4 left); open trades 1 of 3 (2 left)" st.txt ||
  fail "a forced entry counts as a trade: $(cat st.txt)"
"$BIN" forceexit BTC/USDT > out.txt || fail "forceexit: $(cat out.txt)"
grep -q "^forceexit BTC/USDT: ok: market exit sent" out.txt || fail "forceexit: $(cat out.txt)"
advance 1
[ "$(field '["positions"].__len__()')" = 0 ] || fail "the forced exit did not close the position"
"$BIN" orders --json > orders.json
python3 - <<'PY' || fail "orders: $(cat orders.json)"
import json
o = json.load(open("orders.json"))
reasons = [x["reason"] for x in o]
assert "force_entry" in reasons and "force_exit" in reasons, reasons
PY
grep '"event":"exit"' bot.log.jsonl | tail -1 | grep -q '"reason":"force_exit"' ||
  fail "the forced exit is not logged as force_exit"

# ---- 5. liveness -----------------------------------------------------------------------------
kill -STOP "$bot"
sleep 17
"$BIN" status > st.txt
grep -q "^state      stalled (pid $bot alive, last heartbeat [0-9]* s ago)" st.txt ||
  { kill -CONT "$bot"; fail "a stopped process: $(cat st.txt)"; }
kill -CONT "$bot"
for _ in $(seq 30); do "$BIN" status | grep -q "^state      running" && break; sleep 0.1; done
"$BIN" status | grep -q "^state      running, pid $bot, heartbeat [0-9] s ago" ||
  fail "running again after SIGCONT: $("$BIN" status)"
kill -9 "$bot"; wait "$bot" 2>/dev/null || true
"$BIN" status > st.txt
grep -q "^state      not running (last heartbeat [0-9] s ago; it did not stop cleanly)" st.txt ||
  fail "right after SIGKILL: $(cat st.txt)"
[ "$(field '["alive"]')" = not_running ] && [ "$(field '["state"]')" = not_running ] ||
  fail "JSON after SIGKILL: $(field '["state"]')"
set +e
"$BIN" forceexit BTC/USDT 2> err.txt; rc=$?
set -e
[ $rc = 1 ] && grep -q "no robot is running on this database (last heartbeat" err.txt ||
  fail "forceexit with the robot dead: $rc $(cat err.txt)"

# ---- 6. dust in the journal is not a position -------------------------------------------------
# 0.00003 BTC (about 1.3 USDT: three steps, below the 5 USDT minimum notional), as an older
# robot's trades could leave it
python3 -c "
import sqlite3
c = sqlite3.connect('$DB', timeout=5)
c.execute(\"INSERT INTO fills VALUES('BTC/USDT', 'dust-1', 'cb-parity-dust', 'buy', 8, 8, 8, \"
          \"4300000000000, 3000, 0, 'USDT', 1704934800000)\")
c.commit()"
start_bot 2
grep -q "position held before the restart restored" run2.err && fail "the dust was restored as a position"
grep -q "BTC/USDT: 0.00003 BTC left by earlier trades is dust, not a position" run2.err ||
  fail "the dust is not reported"
"$BIN" status > st.txt
grep -q "^positions  0 open" st.txt && grep -q "^dust       BTC/USDT   0.00003 BTC (worth [0-9.]* USDT)" st.txt ||
  fail "status with dust: $(cat st.txt)"
set +e
"$BIN" forceexit BTC/USDT > out.txt; rc=$?
set -e
[ $rc = 1 ] && grep -q "refused: no position in BTC/USDT, only dust of 0.00003 BTC" out.txt ||
  fail "forceexit of dust: $rc $(cat out.txt)"
n=$(grep -c '"event":"entry"' bot.log.jsonl || true)
for _ in $(seq 100); do
  advance 1
  [ "$(grep -c '"event":"entry"' bot.log.jsonl || true)" -gt "$n" ] && break
done
[ "$(grep -c '"event":"entry"' bot.log.jsonl || true)" -gt "$n" ] || fail "no entry with dust held"
"$BIN" stop > /dev/null
set +e; wait "$bot"; rc=$?; set -e; bot=
[ $rc = 0 ] || fail "stop: $rc"
"$BIN" status | grep -q "^state      stopped (not running, last heartbeat" || fail "after stop: $("$BIN" status)"

# the default history: warm-up + 200 candles
sed -i '/^history = /d' bot.ini
rm -f parity.paper.sqlite*
start_bot 3
grep -q "BTC/USDT: 210 closed 1h candles loaded (warm-up needs 10)" run3.err ||
  fail "the default history: $(grep history run3.err)"
kill -TERM "$bot"; wait "$bot" || true; bot=
echo ok

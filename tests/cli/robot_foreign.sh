#!/usr/bin/env bash
# A trade made beside a running live robot does not end it: against `comeback exchange-sim`
# (paused clock), while the robot holds a position with a trailing stop, a limit order is placed
# by hand on BTCUSDT. `comeback reconcile` (run while the robot runs: the robot reconciles
# itself) reports the foreign order; the robot keeps running, stops new entries (a forced entry
# is refused with the reason), raises an alert in its log and status, and keeps managing the
# position's exits (the trailing stop moves on the exchange, the position is closed by its
# exits). `comeback reconcile --adopt` resolves it and the robot enters again, without a
# restart.
set -euo pipefail
BIN=${COMEBACK_BIN:?}
FIX=${COMEBACK_FIXTURES:?}/live
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
fail() { echo "FAIL: $*"; echo "--- robot log"; tail -30 "$tmp"/run.err 2>/dev/null; exit 1; }
cd "$tmp"

"$BIN" data synth --bars 1500 --timeframe 1h --seed 11 --pair BTC/USDT --start 2024-01-01 \
  --start-price 40000 --out btc.csv >/dev/null
KEY=foreignTestKey0123456789
SECRET=foreignTestSecret0123456789abcd
printf 'api_key = %s\napi_secret = %s\n' "$KEY" "$SECRET" > keys.ini
chmod 600 keys.ini
"$BIN" exchange-sim --data BTC/USDT=btc.csv --listen 127.0.0.1:0 --port-file port \
  --speed paused --start 2024-01-15 --key-file keys.ini --quiet 2> sim.log &
sim=$!
for _ in $(seq 50); do [ "$(cat port 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
[ "$(wc -l < port)" -ge 2 ] || fail "the simulator did not start: $(cat sim.log)"
API=$(sed -n 1p port); WS=$(sed -n 2p port)
URL="http://127.0.0.1:$API"
# the live fixture with a trailing stop instead of the take-profit
sed "s/@API@/$API/; s/@WS@/$WS/; s#@KEYS@#keys.ini#; s/^name = kill/name = foreign/;
     s/^take_profit = .*/trailing_stop = 0.5%/" "$FIX/bot.ini" > bot.ini
DB=foreign.live.sqlite

field() { "$BIN" status --db "$DB" --json | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
decisions() { grep -c '"event":"decision"' bot.log.jsonl 2>/dev/null || true; }
done_bars=0
advance() {
  curl -s --max-time 5 -X POST "$URL/sim/v1/advance?candles=1" >/dev/null
  done_bars=$((done_bars + 1))
  for _ in $(seq 200); do [ "$(decisions)" -ge "$done_bars" ] && break; sleep 0.05; done
  [ "$(decisions)" -ge "$done_bars" ] || fail "the robot did not decide on $done_bars bars"
  sleep 0.3
}
stops() { # stop-loss orders the robot placed on the exchange: "coid stop_price" per line
  python3 -c "
import sqlite3
for c, p in sqlite3.connect('$DB').execute(
        \"SELECT client_order_id, stop_price FROM orders WHERE type = 'stop_loss' ORDER BY seq\"):
    print(c, p)"
}

"$BIN" run bot.ini --mode live --yes 2> run.err &
bot=$!
for _ in $(seq 150); do grep -q "market stream connected" run.err && break; sleep 0.1; done
grep -q "market stream connected" run.err || fail "the robot did not connect"
# a position with its trailing stop on the exchange
for _ in $(seq 100); do
  advance
  [ "$(field '["positions"].__len__()')" = 1 ] && [ "$(stops | wc -l)" -ge 1 ] && break
done
[ "$(field '["positions"].__len__()')" = 1 ] || fail "no position"

# ---- the manual order beside the robot ------------------------------------------------------
python3 - "$API" "$KEY" "$SECRET" <<'PY' || fail "the manual order was refused"
import hashlib, hmac, json, sys, urllib.request
base, key, secret = "http://127.0.0.1:%s" % sys.argv[1], sys.argv[2], sys.argv[3]
t = json.load(urllib.request.urlopen(base + "/api/v3/time"))["serverTime"]
q = ("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=10000"
     "&newClientOrderId=manual-1&timestamp=%d" % t)
sig = hmac.new(secret.encode(), q.encode(), hashlib.sha256).hexdigest()
req = urllib.request.Request(base + "/api/v3/order?" + q + "&signature=" + sig, method="POST",
                             headers={"X-MBX-APIKEY": key})
json.load(urllib.request.urlopen(req))
PY
rc=0
"$BIN" reconcile bot.ini > reconcile.out || rc=$?
[ $rc = 1 ] && grep -q "^DIFFERS foreign_order: " reconcile.out ||
  fail "reconcile while running: $rc $(cat reconcile.out)"
grep -q "reconciliation requested by the operator" run.err ||
  fail "the running robot did not run the reconciliation itself"
kill -0 "$bot" 2>/dev/null || fail "the robot ended on the foreign order"
grep -q "alert: ALERT: the journal and the exchange differ (1 difference)" run.err ||
  fail "no alert in the log"
[ "$(field '["alert"]["kind"]')" = reconcile ] || fail "no alert in the status"
"$BIN" status --db "$DB" | grep -q "^alert      the journal and the exchange differ" ||
  fail "status does not show the alert: $("$BIN" status --db "$DB")"
n_stops=$(stops | wc -l)
first_stop=$(stops | tail -1 | cut -d' ' -f2)
# the exits keep being managed: the trailing stop moves up, or the exits close the position
moved=0
for _ in $(seq 60); do
  advance
  kill -0 "$bot" 2>/dev/null || fail "the robot ended while a difference was open"
  [ "$(stops | wc -l)" -gt "$n_stops" ] && [ "$(stops | tail -1 | cut -d' ' -f2)" -gt "$first_stop" ] &&
    moved=1
  [ $moved = 1 ] && [ "$(field '["positions"].__len__()')" = 0 ] && break
done
[ $moved = 1 ] || fail "the trailing stop did not move while the difference was open"
[ "$(field '["positions"].__len__()')" = 0 ] || fail "the position was not closed by its exits"
# no new entries while the difference is open
set +e
"$BIN" forceentry BTC/USDT --db "$DB" > out.txt; rc=$?
set -e
[ $rc = 1 ] && grep -q "refused: reconcile: the journal and the exchange differ" out.txt ||
  fail "an entry while a difference is open: $rc $(cat out.txt)"
# resolved by --adopt while the robot runs: entries resume, no restart
"$BIN" reconcile bot.ini --adopt > adopt.out || fail "reconcile --adopt: $(cat adopt.out)"
grep -q "^resolved foreign_order" adopt.out || fail "reconcile --adopt: $(cat adopt.out)"
grep -q "the journal and the exchange agree again: entries resumed" run.err ||
  fail "the robot did not resume"
python3 -c "import json,sys; s = json.loads(sys.argv[1]); sys.exit('alert' in s)" \
  "$("$BIN" status --db "$DB" --json)" || fail "the alert is still in the status"
"$BIN" forceentry BTC/USDT --db "$DB" > out.txt || fail "an entry after --adopt: $(cat out.txt)"
advance
[ "$(field '["positions"].__len__()')" = 1 ] || fail "no position after the forced entry"
[ "$(grep -c "market stream connected" run.err)" = 1 ] || fail "the robot was restarted"
kill -TERM "$bot"; set +e; wait "$bot"; rc=$?; set -e; bot=
[ $rc = 0 ] || fail "SIGTERM: exit status $rc"
echo ok

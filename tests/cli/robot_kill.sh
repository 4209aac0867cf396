#!/usr/bin/env bash
# The live robot against `comeback exchange-sim` on loopback, killed with SIGKILL at 20 random
# moments (seeded: a third while trading, a third anywhere including start-up, a third right
# after an order intent was journaled), including right after an order intent was journaled (the test hook
# COMEBACK_TEST_PAUSE_AFTER_INTENT_MS holds it there) and while the simulator holds an
# accepted order's answer (lost=1:700: every order's answer arrives 0.7 s late), restarted each
# time. At the end the simulator's record (GET /sim/v1/state) and the journal must agree: the
# same orders with the same status, no client order id twice, every fill once, position =
# balance; `comeback reconcile` finds nothing. Then the same (8 kills, to stay within a minute)
# with the simulator's fault injection (5xx, 429 bursts, delays, lost answers).
set -euo pipefail
BIN=${COMEBACK_BIN:?}
FIX=${COMEBACK_FIXTURES:?}/live
HERE=$(cd "$(dirname "$0")" && pwd)
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
fail() { echo "FAIL: $*"; echo "--- robot log"; tail -25 "$tmp"/$pass/run.err 2>/dev/null; exit 1; }
cd "$tmp"
"$BIN" data synth --bars 3000 --timeframe 1h --seed 11 --pair BTC/USDT --start 2024-01-01 \
  --start-price 40000 --out btc.csv >/dev/null
printf 'api_key = killTestKey0123456789\napi_secret = killTestSecret0123456789abcdef\n' > keys.ini
chmod 600 keys.ini
# an intent the exchange has not seen 1.5 s after it was written cannot arrive any more on
# loopback (the simulator's delays are shorter): it is then declared not sent
export COMEBACK_UNSENT_AFTER_MS=1500
export COMEBACK_TEST_PAUSE_AFTER_INTENT_MS=150
RANDOM=${KILL_SEED:-7}

in_flight() { # an order written but not yet answered in the journal (sqlite3 is fast to start)
  [ -n "$SQLITE" ] || return 1
  [ "$("$SQLITE" -readonly "$1" ".timeout 200" \
      "SELECT count(*) FROM orders WHERE status IN ('intent','unknown')" 2>/dev/null)" \
    -gt 0 ] 2>/dev/null
}
SQLITE=$(command -v sqlite3 || true)
connected() { # waits until this run's robot trades (its market stream is connected)
  for _ in $(seq 100); do
    [ "$(grep -c "market stream connected" run.err || true)" -gt "$1" ] && return 0
    sleep 0.05
  done
}

# A trade made by hand beside the robot (a signed market buy): reconcile reports the balance
# difference (exit 1), the robot refuses to start, `reconcile --adopt` resolves it.
outside_trade() {
  python3 - "$1" <<'PY' || fail "the manual order was refused"
import hashlib, hmac, json, sys, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]
t = json.load(urllib.request.urlopen(base + "/api/v3/time"))["serverTime"]
q = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&newClientOrderId=manual-1&timestamp=%d" % t
sig = hmac.new(b"killTestSecret0123456789abcdef", q.encode(), hashlib.sha256).hexdigest()
req = urllib.request.Request(base + "/api/v3/order?" + q + "&signature=" + sig, method="POST",
                             headers={"X-MBX-APIKEY": "killTestKey0123456789"})
json.load(urllib.request.urlopen(req))
PY
  local rc=0
  "$BIN" reconcile bot.ini > reconcile.out || rc=$?
  [ $rc = 1 ] || fail "reconcile after a manual trade: exit $rc"
  grep -q "^DIFFERS balance: BTC balance is .* on the exchange but the journal expects" \
    reconcile.out || fail "reconcile: $(cat reconcile.out)"
  rc=0
  "$BIN" run bot.ini --mode live --yes 2> refused.err || rc=$?
  [ $rc = 1 ] && grep -q "the journal and the exchange differ (1 difference): BTC balance" \
    refused.err || fail "the robot started despite a difference: $rc $(cat refused.err)"
  "$BIN" reconcile bot.ini --adopt --json > adopt.json || fail "reconcile --adopt: $(cat adopt.json)"
  grep -q '"kind":"balance"' adopt.json && grep -q '"resolved":true' adopt.json ||
    fail "reconcile --adopt: $(cat adopt.json)"
  "$BIN" reconcile bot.ini | grep -q "the journal and the exchange agree" ||
    fail "a difference remains after --adopt"
}

run_pass() { # $1 = name, $2 = fault spec, $3 = kills
  pass=$1
  KILLS=$3
  mkdir "$pass"; cd "$pass"
  cp ../btc.csv ../keys.ini .
  : > run.err
  "$BIN" exchange-sim --data BTC/USDT=btc.csv --listen 127.0.0.1:0 --port-file port \
    --speed 6 --start 2024-01-15 --key-file keys.ini --faults "$2" --quiet 2> sim.log &
  sim=$!
  for _ in $(seq 50); do [ "$(cat port 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
  [ "$(wc -l < port)" -ge 2 ] || fail "the simulator did not start: $(cat sim.log)"
  local api ws
  api=$(sed -n 1p port); ws=$(sed -n 2p port)
  sed "s/@API@/$api/; s/@WS@/$ws/; s#@KEYS@#keys.ini#" "$FIX/bot.ini" > bot.ini
  local db=kill.live.sqlite k targeted=0
  for k in $(seq "$KILLS"); do
    seen=$(grep -c "market stream connected" run.err || true)
    "$BIN" run bot.ini --mode live --yes 2>> run.err &
    bot=$!
    case $((k % 3)) in
    0) # right after an intent was journaled, before (or while) it is sent
       connected "$seen"
       for _ in $(seq 60); do in_flight "$db" && { targeted=$((targeted + 1)); break; }; sleep 0.03; done ;;
    1) # while trading
       connected "$seen"; sleep "$(printf '0.%03d' $((100 + RANDOM % 700)))" ;;
    2) # anywhere, start-up (reconciliation, restore) included
       sleep "$(printf '0.%03d' $((300 + RANDOM % 700)))" ;;
    esac
    kill -0 "$bot" 2>/dev/null || fail "the robot died on its own (run $k)"
    kill -9 "$bot"; wait "$bot" 2>/dev/null || true; bot=
  done
  # a last clean run: start (reconcile, restore), trade a little, SIGTERM
  "$BIN" run bot.ini --mode live --yes 2>> run.err &
  bot=$!
  sleep 2
  kill -0 "$bot" 2>/dev/null || fail "the robot died on its own (last run)"
  kill -TERM "$bot"; local rc=0; wait "$bot" || rc=$?; bot=
  [ $rc = 0 ] || fail "SIGTERM: exit status $rc"
  curl -s --max-time 10 "http://127.0.0.1:$api/sim/v1/state" > state.json
  python3 "$HERE/robot_kill_compare.py" state.json "$db" || fail "the journal and the exchange differ"
  "$BIN" reconcile bot.ini > reconcile.out || fail "reconcile: $(cat reconcile.out)"
  grep -q "the journal and the exchange agree" reconcile.out || fail "reconcile: $(cat reconcile.out)"
  grep -q "exits: stop-loss rests on the exchange (STOP_LOSS)" run.err ||
    fail "live mode did not say where its exits live"
  [ "$pass" = plain ] && outside_trade "$api"
  echo "$pass: $KILLS kills ($targeted right after an intent was journaled);" \
    "$(grep -c 'missed fill recorded' run.err || true) restarts recorded a fill the killed run" \
    "had not, $(grep -c ' [1-9][0-9]* not sent' run.err || true) declared an intent not sent"
  kill "$sim"; wait "$sim" 2>/dev/null || true; sim=
  cd ..
}

run_pass plain "seed=3,lost=1:700" "${KILLS:-20}"
run_pass faults "seed=5,5xx=0.05,429=0.03:2,delay=0.1:200,lost=0.1:1200" "${FAULT_KILLS:-8}"
echo ok

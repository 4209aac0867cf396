#!/usr/bin/env bash
# A live robot you can stop and start again: against `comeback exchange-sim` (paused clock,
# commissions of 0.1 % charged in the asset received, so every buy leaves base-asset dust), the
# robot trades, is stopped with `comeback stop` while flat, restarted, and enters again. The
# dust its trades left is not restored as a position ("0 open", shown as dust in `status`), and
# it is sold with the next sell. Then a SIGKILL while flat and a restart: the same.
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
fail() { echo "FAIL: $*"; echo "--- robot log"; tail -30 "$tmp"/run*.err 2>/dev/null; exit 1; }
cd "$tmp"

"$BIN" data synth --bars 1500 --timeframe 1h --seed 11 --pair BTC/USDT --start 2024-01-01 \
  --start-price 40000 --out btc.csv >/dev/null
printf 'api_key = restartTestKey0123456789\napi_secret = restartTestSecret0123456789abcd\n' > keys.ini
chmod 600 keys.ini
"$BIN" exchange-sim --data BTC/USDT=btc.csv --listen 127.0.0.1:0 --port-file port \
  --speed paused --start 2024-01-15 --key-file keys.ini --quiet 2> sim.log &
sim=$!
for _ in $(seq 50); do [ "$(cat port 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
[ "$(wc -l < port)" -ge 2 ] || fail "the simulator did not start: $(cat sim.log)"
API=$(sed -n 1p port); WS=$(sed -n 2p port)
URL="http://127.0.0.1:$API"
sed "s/@API@/$API/; s/@WS@/$WS/; s#@KEYS@#keys.ini#; s/^name = kill/name = restart/" \
  "$FIX/bot.ini" > bot.ini
DB=restart.live.sqlite

field() { "$BIN" status --db "$DB" --json | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
decisions() { grep -c '"event":"decision"' bot.log.jsonl 2>/dev/null || true; }
done_bars=0
advance() { # N candles, waiting until the robot has decided on each
  local n=$1 k
  while [ "$n" -gt 0 ]; do
    k=$(( n > 20 ? 20 : n )); n=$((n - k))
    curl -s --max-time 5 -X POST "$URL/sim/v1/advance?candles=$k" >/dev/null
    done_bars=$((done_bars + k))
    for _ in $(seq 200); do [ "$(decisions)" -ge "$done_bars" ] && break; sleep 0.05; done
    [ "$(decisions)" -ge "$done_bars" ] || fail "the robot did not decide on $done_bars bars"
  done
  sleep 0.3 # the venue's poll and the status follow the decision
}
start_bot() { # $1 = log suffix
  "$BIN" run bot.ini --mode live --yes 2> "run$1.err" &
  bot=$!
  for _ in $(seq 150); do grep -q "market stream connected" "run$1.err" && return 0; sleep 0.1; done
  fail "the robot did not connect"
}
# the base quantity the robot's fills left (bought - base commissions - sold), from the journal
held() {
  python3 - "$DB" <<'PY'
import sqlite3, sys
from decimal import Decimal as D
c = sqlite3.connect(sys.argv[1])
pos = D(0)
for side, q, qs, fee, fs, asset in c.execute(
        "SELECT side, quantity, qty_scale, fee, fee_scale, fee_asset FROM fills WHERE pair = 'BTC/USDT'"):
    q = D(q).scaleb(-qs); fee = D(fee).scaleb(-fs)
    pos += q if side == "buy" else -q
    if asset == "BTC":
        pos -= fee
s = "{:f}".format(pos)
print(s.rstrip("0").rstrip(".") if "." in s else s)
PY
}
entries() { grep -c '"event":"entry"' bot.log.jsonl 2>/dev/null || true; }
exits() { grep -c '"event":"exit"' bot.log.jsonl 2>/dev/null || true; }
# advances until the robot is flat after at least $1 closed trades
trade_until_flat() {
  local want=$1
  for _ in $(seq 150); do
    advance 1
    [ "$(exits)" -ge "$want" ] && [ "$(field '["positions"].__len__()')" = 0 ] && return 0
  done
  fail "not flat after $want trades"
}

# ---- 1. trade, stop while flat, restart, enter again -------------------------------------
start_bot 1
trade_until_flat 3
dust1=$(held)
python3 -c "import sys; sys.exit(0 if 0 < float('$dust1') < 0.001 else 1)" ||
  fail "after 3 round trips the account holds $dust1 BTC: expected a little dust"
"$BIN" stop --db "$DB" >/dev/null
set +e; wait "$bot"; rc=$?; set -e; bot=
[ $rc = 0 ] || fail "comeback stop: exit status $rc"
n_entries=$(entries)
start_bot 2
grep -q "position held before the restart restored" run2.err &&
  fail "the dust ($dust1 BTC) was restored as a position"
grep -q "BTC/USDT: $dust1 BTC left by earlier trades is dust, not a position" run2.err ||
  fail "the dust ($dust1 BTC) was not reported at the restart"
[ "$(field '["positions"].__len__()')" = 0 ] || fail "a position after restarting flat"
"$BIN" status --db "$DB" | grep -q "^dust       BTC/USDT   $dust1 BTC (worth" ||
  fail "status does not show the dust: $("$BIN" status --db "$DB")"
"$BIN" status --db "$DB" | grep -q "^positions  0 open" || fail "status: a position"
for _ in $(seq 150); do
  advance 1
  [ "$(entries)" -gt "$n_entries" ] && break
done
[ "$(entries)" -gt "$n_entries" ] || fail "no entry after the restart"
# the dust goes with the next sell: after it the account holds less than one step again
trade_until_flat $(( $(exits) + 1 ))
dust2=$(held)
python3 -c "import sys; sys.exit(0 if 0 <= float('$dust2') < 0.00001 else 1)" ||
  fail "after the next sell $dust2 BTC is left: the dust was not sold with it"
"$BIN" status --db "$DB" | grep -q "^dust" && [ "$dust2" != 0 ] ||
  [ "$dust2" = 0 ] || fail "status does not show the dust left by the sell"

# ---- 2. SIGKILL while flat, restart, enter again -------------------------------------------
kill -9 "$bot"; wait "$bot" 2>/dev/null || true; bot=
n_entries=$(entries)
start_bot 3
grep -q "position held before the restart restored" run3.err &&
  fail "the dust was restored as a position after the SIGKILL"
for _ in $(seq 150); do
  advance 1
  [ "$(entries)" -gt "$n_entries" ] && break
done
[ "$(entries)" -gt "$n_entries" ] || fail "no entry after the restart that followed a SIGKILL"
kill -TERM "$bot"; set +e; wait "$bot"; rc=$?; set -e; bot=
[ $rc = 0 ] || fail "SIGTERM: exit status $rc"
"$BIN" reconcile bot.ini > reconcile.out || fail "reconcile: $(cat reconcile.out)"
grep -q "the journal and the exchange agree" reconcile.out || fail "reconcile: $(cat reconcile.out)"
echo "ok: $(exits) round trips, dust $dust1 BTC at the restart, $dust2 BTC after the next sell"

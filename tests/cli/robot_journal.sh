#!/usr/bin/env bash
# The robot's journal is its own and every write to it is checked:
#  1. `run` refuses a foreign SQLite database and a damaged journal with a sentence (exit 1),
#     and writes nothing into them;
#  2. a paper robot whose journal writes fail while it holds a position (another program takes
#     a table away under it: SQLite's own error) goes into the halted state: it says so in its
#     log and in `status`, refuses every entry from then on, keeps stepping the bars and
#     closing its position, and exits cleanly on `stop`;
#  3. (when the test may mount a small tmpfs, i.e. as root) the same with a real full disk:
#     SQLite's own "database or disk is full".
set -euo pipefail
BIN=${COMEBACK_BIN:?}
FIX=${COMEBACK_FIXTURES:?}/robot
command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 77; }
python3 -c "import sqlite3" 2>/dev/null || { echo "skip: python3 has no sqlite3"; exit 77; }
tmp=$(mktemp -d)
sim=
bot=
small=
cleanup() {
  [ -n "$bot" ] && kill -9 "$bot" 2>/dev/null
  [ -n "$sim" ] && kill "$sim" 2>/dev/null
  wait 2>/dev/null
  [ -n "$small" ] && umount "$small" 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- robot log"; tail -30 "$tmp"/run*.err 2>/dev/null; exit 1; }
cd "$tmp"
sq() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.executescript(sys.argv[2]); c.close()' "$@"; }

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

# ---- 1. not its own: refused, untouched -------------------------------------------------
sq "$DB" "CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes(text) VALUES('mine');"
sum=$(md5sum < "$DB")
rc=0; "$BIN" run bot.ini --dry-run-balance "10000 USDT" 2> foreign.err || rc=$?
[ $rc = 1 ] || fail "run on a foreign database: exit $rc"
grep -q "$DB: this SQLite database belongs to another program (application_id 0, tables 'notes')" \
  foreign.err || fail "foreign database: $(cat foreign.err)"
[ "$(md5sum < "$DB")" = "$sum" ] || fail "run wrote into a foreign database"
rc=0; "$BIN" status --db "$DB" 2> status.err || rc=$?
[ $rc = 1 ] && grep -q "belongs to another program" status.err || fail "status: $(cat status.err)"
rm -f "$DB"

# ---- 2. a write that fails: halted, exits kept ------------------------------------------
field() { "$BIN" status --db "$DB" --json | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
decisions() { grep -c '"event":"decision"' bot.log.jsonl 2>/dev/null || true; }
done_bars=0
advance() { # n candles, waiting until the robot has decided on each
  local n=$1 k
  while [ "$n" -gt 0 ]; do
    k=$(( n > 50 ? 50 : n )); n=$((n - k))
    curl -s --max-time 5 -X POST "$URL/sim/v1/advance?candles=$k" >/dev/null
    done_bars=$((done_bars + k))
    for _ in $(seq 200); do [ "$(decisions)" -ge "$done_bars" ] && break; sleep 0.05; done
    [ "$(decisions)" -ge "$done_bars" ] || fail "the robot did not decide on $done_bars bars"
  done
  sleep 0.1
}
"$BIN" run bot.ini --dry-run-balance "10000 USDT" 2> run.err &
bot=$!
for _ in $(seq 100); do grep -q "market stream connected" run.err && break; sleep 0.1; done
grep -q "market stream connected" run.err || fail "the robot did not connect"
# the backtest of the replay says when a position is held for a few bars: the journal breaks
# right after its entry
S=1704931200000 # 2024-01-11, the simulator's start
H=3600000
"$BIN" backtest bot.ini --data btc.csv --pair BTC/USDT --from 2024-01-11 --trades bt.csv --quiet
hold_at=$(python3 -c '
import csv
for t in csv.DictReader(open("bt.csv")):
    if int(t["bars_held"]) >= 4 and t["exit_reason"] != "end_of_data":
        print(int(t["entry_time_ms"])); break')
[ -n "$hold_at" ] || fail "no trade of 4 bars in the backtest"
advance $(( (hold_at - S) / H + 1 ))
[ "$(field '["positions"].__len__()')" = 1 ] || fail "no position open after the bar of $hold_at"
opened=$(grep -c "position opened" run.err)

# another program renames the robot's key/value table: its next writes fail
sq "$DB" "ALTER TABLE kv RENAME TO kv_gone"
advance 1
for _ in $(seq 50); do grep -q "halted: journal write failed" run.err && break; sleep 0.1; done
grep -q "halted: journal write failed: cannot write the robot's state: no such table: kv; no new entries" \
  run.err || fail "the failed write was not reported"
grep '"event":"halted"' bot.log.jsonl | grep -q '"reason":"journal write failed: cannot write' ||
  fail "no halted event in the JSON log"
kill -0 "$bot" 2>/dev/null || fail "the robot died on a failed write"
sq "$DB" "ALTER TABLE kv_gone RENAME TO kv"
for _ in $(seq 50); do "$BIN" status --db "$DB" 2>/dev/null | grep -q "^halted " && break; sleep 0.1; done
"$BIN" status --db "$DB" > status.txt
grep -q "^halted     journal write failed: cannot write the robot's state: no such table: kv: no new entries until the robot is restarted" \
  status.txt || fail "status does not show the halt: $(cat status.txt)"
grep -q "^state      running" status.txt || fail "status: $(cat status.txt)"
grep -q "^risk       HALTED " status.txt || fail "status risk line: $(cat status.txt)"
[ "$(field '["halted"]')" != "" ] || fail "status --json has no halted"
[ "$(field '["positions"].__len__()')" = 1 ] || fail "the position was lost when the journal failed"

# the position is still looked after (its exits work); no entry is made any more
closed=0
for _ in $(seq 300); do
  advance 1
  if [ "$(field '["positions"].__len__()')" = 0 ]; then closed=1; break; fi
done
[ $closed = 1 ] || fail "the held position was never closed after the halt"
refused=0
for _ in $(seq 300); do
  advance 1
  if grep -q '"reason":"journal_write_failed"' bot.log.jsonl; then refused=1; break; fi
done
[ $refused = 1 ] || fail "no entry refused while halted"
grep -q "entry of .* refused (journal_write_failed): journal write failed" run.err ||
  fail "the refusal is not on stderr"
[ "$(grep -c "position opened" run.err)" = "$opened" ] || fail "an entry was made while halted"
[ "$(field '["positions"].__len__()')" = 0 ] || fail "a position was opened while halted"
"$BIN" stop --db "$DB" >/dev/null
set +e; wait "$bot"; rc=$?; set -e; bot=
[ $rc = 0 ] || fail "comeback stop: exit status $rc"

# a restart starts from the journal, whole again: no longer halted
"$BIN" run bot.ini --dry-run-balance "10000 USDT" 2> run2.err &
bot=$!
for _ in $(seq 100); do grep -q "market stream connected" run2.err && break; sleep 0.1; done
grep -q "market stream connected" run2.err || fail "the robot did not restart"
sleep 0.5
"$BIN" status --db "$DB" | grep -q "^halted " && fail "still halted after a restart"
"$BIN" stop --db "$DB" >/dev/null
set +e; wait "$bot"; rc=$?; set -e; bot=
[ $rc = 0 ] || fail "stop after the restart: exit status $rc"

# ---- 3. a real full disk (needs a tmpfs mount: root) ------------------------------------
mkdir small
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m tmpfs small 2>/dev/null; then
  small=$tmp/small
  sed "s|^log = .*|log = $tmp/full.log.jsonl|" bot.ini > small/bot.ini
  "$BIN" run small/bot.ini --dry-run-balance "10000 USDT" 2> run3.err &
  bot=$!
  for _ in $(seq 100); do grep -q "market stream connected" run3.err && break; sleep 0.1; done
  grep -q "market stream connected" run3.err || fail "the robot on the small disk did not start"
  dd if=/dev/zero of=small/filler bs=4k 2>/dev/null || true # until the disk is full
  for _ in $(seq 20); do
    curl -s --max-time 5 -X POST "$URL/sim/v1/advance?candles=1" >/dev/null
    grep -q "halted: journal write failed" run3.err && break
    sleep 0.3
  done
  grep -q "halted: journal write failed: .*database or disk is full" run3.err ||
    fail "a full disk was not reported: $(tail -3 run3.err)"
  kill -0 "$bot" 2>/dev/null || fail "the robot died on a full disk"
  rm -f small/filler
  for _ in $(seq 50); do "$BIN" status --db small/parity.paper.sqlite 2>/dev/null | grep -q "^halted " && break; sleep 0.1; done
  "$BIN" status --db small/parity.paper.sqlite | grep -q "^halted     journal write failed: .*database or disk is full" ||
    fail "status after the full disk: $("$BIN" status --db small/parity.paper.sqlite 2>&1)"
  kill -TERM "$bot"; set +e; wait "$bot"; rc=$?; set -e; bot=
  [ $rc = 0 ] || fail "SIGTERM after the full disk: exit status $rc"
  grep -q "stopped, halted (journal write failed: .*): small/parity.paper.sqlite lacks what could not be written" \
    run3.err || fail "the stop after a full disk claims a clean state: $(tail -1 run3.err)"
  umount small; small=
else
  echo "part 3 skipped: cannot mount a small tmpfs to fill (not root)"
fi
echo "ok"

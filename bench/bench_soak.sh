#!/usr/bin/env bash
# The soak benchmark: the live robot (`comeback run --mode live`) against `comeback exchange-sim`
# on loopback with every fault on (5xx, 429 bursts, delays, lost order answers, dropped
# WebSocket connections, partial fills), 3 pairs of generated 5m candles (`comeback data
# synth`), replayed fast. Full run: 31 days of market time in about three minutes; BENCH_QUICK=1:
# 2 days in about 15 s (CI). scripts/bench runs it from BUILD/bench (CMake copies it there as
# bench_soak); by hand: `bench/bench_soak.sh build` (KEEP=1 keeps the work directory).
#
# It prints BENCH lines (orders, fills, partial fills, reconnects, faults the simulator logged,
# RSS after warm-up / middle / end, open files, journal size) and exits non-zero when the
# simulator's record (GET /sim/v1/state) and the journal differ (orders, fills, every balance:
# tests/cli/robot_kill_compare.py), when `comeback reconcile` finds a difference, when RSS at the
# end is more than SOAK_RSS_GROWTH (20) percent above the post-warm-up value, when the robot
# holds more open files at the end than after warm-up, or when the robot dies or the run does
# not end in time. Only 127.0.0.1, ports picked by the system; every process is stopped on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -x "$here/../comeback" ]; then build=$(cd "$here/.." && pwd)      # BUILD/bench/bench_soak
else build=$(cd "${1:-$here/../build}" && pwd); fi                      # bench/bench_soak.sh
BIN=$build/comeback
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
COMPARE=$src/tests/cli/robot_kill_compare.py
[ -x "$BIN" ] || { echo "bench_soak: $BIN is not built" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench_soak: curl is required" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench_soak: python3 is required" >&2; exit 1; }

if [ "${BENCH_QUICK:-0}" != 0 ]; then days=${SOAK_DAYS:-2}; speed=${SOAK_SPEED:-40}
else days=${SOAK_DAYS:-31}; speed=${SOAK_SPEED:-50}; fi
tf_ms=300000                      # 5m candles
per_day=288
warm_days=1                       # history before the replay starts (the robot loads 200)
bars=$(( (days + warm_days) * per_day ))
replay=$(( days * per_day ))      # candles the robot trades through
wall=$(( replay / speed ))        # expected seconds of replay
limit=$(( wall * 2 + 60 ))        # the run fails if it takes longer than this
growth=${SOAK_RSS_GROWTH:-20}
# per request to /api/v3 (drop: per stream message). The robot makes its exchange calls on its
# event loop, so every 429 (Retry-After 1 s), retried 5xx and held answer stalls it in wall
# time while the replay runs on: the full run's rates are lower so that 31 days fit in minutes.
if [ "${BENCH_QUICK:-0}" != 0 ]; then
  dflt=seed=5,5xx=0.03,429=0.02:2,delay=0.05:200,lost=0.02:1200,drop=0.002
else dflt=seed=5,5xx=0.01,429=0.004:2,delay=0.02:200,lost=0.005:1200,drop=0.001; fi
faults=${SOAK_FAULTS:-$dflt}
fill_fraction=${SOAK_FILL_FRACTION:-0.01}

tmp=$(mktemp -d /tmp/comeback-soak.XXXXXX)
sim=
bot=
cleanup() {
  [ -n "$bot" ] && kill -9 "$bot" 2>/dev/null
  [ -n "$sim" ] && kill "$sim" 2>/dev/null
  wait 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "bench_soak: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
  echo "bench_soak: FAIL: $*" >&2
  echo "--- robot log (last lines)" >&2; tail -20 "$tmp/run.err" >&2 || true
  exit 1
}
cd "$tmp"

i=0
series=
for spec in BTC/USDT:40000 ETH/USDT:2000 SOL/USDT:100; do
  pair=${spec%%:*}; price=${spec#*:}; i=$((i + 1))
  f=$(echo "${pair%%/*}" | tr 'A-Z' 'a-z').csv
  "$BIN" data synth --bars "$bars" --timeframe 5m --seed $((20 + i)) --pair "$pair" \
    --start 2024-01-01 --start-price "$price" --out "$f" >/dev/null
  series=${series:+$series,}$pair=$f
done
start_ms=$(( 1704067200000 + warm_days * per_day * tf_ms ))      # 2024-01-01 + warm-up
end_ms=$(( 1704067200000 + bars * tf_ms ))                       # the last candle's close
printf 'api_key = soakTestKey0123456789\napi_secret = soakTestSecret0123456789abcdef\n' > keys.ini
chmod 600 keys.ini

"$BIN" exchange-sim --data "$series" --listen 127.0.0.1:0 --port-file port --speed "$speed" \
  --start 2024-01-02 --key-file keys.ini --faults "$faults" \
  --max-fill-fraction "$fill_fraction" --quiet 2> sim.log &
sim=$!
for _ in $(seq 100); do [ "$(cat port 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
[ "$(wc -l < port)" -ge 2 ] || fail "the simulator did not start: $(tail -5 sim.log)"
api=$(sed -n 1p port); ws=$(sed -n 2p port)
cat > bot.ini <<INI
; the soak's robot: a fast EMA crossover on 5m candles that trades often on three pairs, a
; stop-loss on the exchange and a trailing stop
[strategy]
name = soak
timeframe = 5m
entry = crossover(ema(close, 5), ema(close, 13))
exit = crossunder(ema(close, 5), ema(close, 13))
stoploss = 1.5%
trailing_stop = 1%
trailing_offset = 0.5%

[backtest]
start_balance = 10000 USDT
stake = 500 USDT
fee = 0.1%

[exchange]
name = binance
api_url = http://127.0.0.1:$api
ws_url = ws://127.0.0.1:$ws
key_file = keys.ini

[bot]
name = soak
mode = live
pairs = BTC/USDT, ETH/USDT, SOL/USDT
timeframe = 5m
history = 200
log = bot.log.jsonl

[risk]
max_open_trades = 3
INI

now_ms() { curl -s --max-time 5 "http://127.0.0.1:$api/api/v3/time" |
  sed -n 's/.*"serverTime":\([0-9]*\).*/\1/p'; }
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$bot/status" 2>/dev/null; }
fds() { find "/proc/$bot/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
alive() { kill -0 "$bot" 2>/dev/null; }

t0=$(date +%s)
: > run.err      # before the robot starts, so that the waits below can read it at once
"$BIN" run bot.ini --mode live --yes 2>> run.err &
bot=$!
for _ in $(seq 200); do grep -q "market stream connected" run.err && break; alive || break
  sleep 0.1; done
alive || fail "the robot did not start"
grep -q "market stream connected" run.err || fail "the robot did not connect its market stream"

# samples: after warm-up (a tenth of the replay, at least 3 s), the middle, the end
warm_at=$(( start_ms + replay * tf_ms / 10 ))
mid_at=$(( start_ms + replay * tf_ms / 2 ))
rss_warm=; rss_mid=; fds_warm=; fds_mid=; rss_max=0; fds_max=0
while :; do
  alive || fail "the robot died at market time $(now_ms)"
  [ $(( $(date +%s) - t0 )) -le "$limit" ] || fail "the replay did not end within $limit s"
  t=$(now_ms); t=${t:-0}
  r=$(rss_kib); n=$(fds)
  if [ -n "$rss_warm" ]; then
    [ "${r:-0}" -gt "$rss_max" ] && rss_max=$r
    [ "$n" -gt "$fds_max" ] && fds_max=$n
  fi
  if [ -z "$rss_warm" ] && [ "$t" -ge "$warm_at" ] && [ $(( $(date +%s) - t0 )) -ge 3 ]; then
    rss_warm=$r; fds_warm=$n; rss_max=$r; fds_max=$n
  fi
  [ -z "$rss_mid" ] && [ "$t" -ge "$mid_at" ] && { rss_mid=$r; fds_mid=$n; }
  [ "$t" -ge "$end_ms" ] && break
  sleep 0.5
done
secs_sim=$(( $(date +%s) - t0 ))
# the robot lags the simulator's clock while an exchange call holds its loop (faults): wait
# until it has decided on the last candle of every pair (bounded), then a little more for the
# orders of that decision to be answered
last_bar=$(date -u -d "@$(( (end_ms - tf_ms) / 1000 ))" +%Y-%m-%dT%H:%M:%SZ)
caught=0
for _ in $(seq $(( limit * 2 ))); do
  alive || fail "the robot died after the replay"
  [ "$(grep -c "\"bar\":\"$last_bar\"" bot.log.jsonl || true)" -ge 3 ] && { caught=1; break; }
  sleep 0.5
done
[ $caught = 1 ] || fail "the robot did not reach the last candle ($last_bar) in time"
lag=$(( $(date +%s) - t0 - secs_sim ))
sleep 3
alive || fail "the robot died after the replay"
rss_end=$(rss_kib); fds_end=$(fds)
[ "$rss_end" -gt "$rss_max" ] && rss_max=$rss_end
[ "$fds_end" -gt "$fds_max" ] && fds_max=$fds_end
kill -TERM "$bot"; rc=0; wait "$bot" || rc=$?; bot=
[ $rc = 0 ] || fail "SIGTERM: exit status $rc"
secs=$(( $(date +%s) - t0 ))

curl -s --max-time 20 "http://127.0.0.1:$api/sim/v1/state" > state.json
cmp_rc=0
python3 "$COMPARE" state.json soak.live.sqlite --quote=USDT=10000 > compare.out || cmp_rc=$?
rec_rc=0
"$BIN" reconcile bot.ini > reconcile.out 2>&1 || rec_rc=$?
kill "$sim"; wait "$sim" 2>/dev/null || true; sim=

# orders, fills, orders filled in several trades and the faults injected, from the simulator
read -r orders fills partial f5xx f429 fdelay flost freject fdrop <<EOF
$(python3 - state.json <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
per = {}
for f in st["fills"]:
    per[f["client_order_id"]] = per.get(f["client_order_id"], 0) + 1
fc = st["faults"]
from decimal import Decimal as D
# partly filled: filled in several trades, or ended (expired, cancelled) with some filled
part = {c for c, n in per.items() if n > 1} | {
    o["client_order_id"] for o in st["orders"]
    if 0 < D(o["executed_quantity"]) < D(o["quantity"])}
print(len(st["orders"]), len(st["fills"]), len(part),
      fc["5xx"], fc["429"], fc["delay"], fc["lost"], fc["reject"], fc["drop"])
PY
)
EOF
# candles the robot decided on (each pair), and those after its history it never decided on
read -r decided undecided <<EOF
$(python3 - bot.log.jsonl "$last_bar" run.err <<'PY'
import datetime, json, re, sys
F = "%Y-%m-%dT%H:%M:%SZ"
bars = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "decision":
        bars.setdefault(e["pair"], set()).add(e["bar"])
last = datetime.datetime.strptime(sys.argv[2], F)
newest = {}  # the newest candle of the history each start loaded (the first start's)
for m in re.finditer(r"history: (\S+): .* the newest opened (\S+ \S+)", open(sys.argv[3]).read()):
    newest.setdefault(m.group(1), datetime.datetime.strptime(m.group(2), "%Y-%m-%d %H:%M:%S"))
und = 0
for p, b in bars.items():
    first = newest[p] + datetime.timedelta(minutes=5)
    und += int((last - first).total_seconds() // 300) + 1 - len(b)
print(sum(len(b) for b in bars.values()), und)
PY
)
EOF
reconnects=$(( $(grep -c "market stream connected" run.err || true) - 1 ))
jsize=$(( $(stat -c %s soak.live.sqlite) + $(stat -c %s soak.live.sqlite-wal 2>/dev/null || echo 0) ))
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

b() { echo "BENCH soak.$1 $2 $3 min=$2 max=$2"; }
echo "soak: $days days of 5m candles on 3 pairs at $speed candles/s, faults $faults," \
  "max fill fraction $fill_fraction: $secs s"
b market_days "$days" days
b wall "$secs" s
b robot_lag "$lag" s
b candles_decided "$decided" candles
b candles_skipped "$undecided" candles
b orders "$orders" orders
b fills "$fills" fills
b partially_filled_orders "$partial" orders
b reconnects "$reconnects" reconnects
b faults_5xx "$f5xx" answers
b faults_429 "$f429" answers
b faults_delay "$fdelay" requests
b faults_lost "$flost" answers
b faults_reject "$freject" orders
b faults_drop "$fdrop" connections
b rss_warm "$(mib "$rss_warm")" MiB
b rss_mid "$(mib "${rss_mid:-0}")" MiB
b rss_end "$(mib "$rss_end")" MiB
b rss_max "$(mib "$rss_max")" MiB
b fds_warm "$fds_warm" fds
b fds_mid "${fds_mid:-0}" fds
b fds_end "$fds_end" fds
b fds_max "$fds_max" fds
b journal_bytes "$jsize" bytes
echo "soak: $(tail -1 compare.out)"
echo "soak: reconcile: $(tail -1 reconcile.out)"
echo

bad=0
if [ $cmp_rc != 0 ]; then echo "bench_soak: FAIL: the journal and the exchange differ:" >&2
  cat compare.out >&2; bad=1; fi
if [ $rec_rc != 0 ]; then echo "bench_soak: FAIL: reconcile (exit $rec_rc):" >&2
  cat reconcile.out >&2; bad=1; fi
if [ $(( rss_end * 100 )) -gt $(( rss_warm * (100 + growth) )) ]; then
  echo "bench_soak: FAIL: RSS grew from $rss_warm KiB after warm-up to $rss_end KiB" \
    "(bound $growth%)" >&2; bad=1; fi
if [ "$fds_end" -gt "$fds_warm" ]; then
  echo "bench_soak: FAIL: open files grew from $fds_warm after warm-up to $fds_end" >&2; bad=1; fi
if [ "$orders" -lt 10 ] || [ "$fills" -lt 10 ]; then
  echo "bench_soak: FAIL: only $orders orders and $fills fills: the robot hardly traded" >&2
  bad=1; fi
exit $bad

#!/usr/bin/env bash
# comeback data download against comeback exchange-sim: a full download, a resumed one, and a
# run through injected faults (5xx, 429 bursts, delays) must all end with exactly the same data.
set -euo pipefail
BIN=${COMEBACK_BIN:?}
FIX=${COMEBACK_FIXTURES:?}/exchange
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

start_sim() { # faults
  rm -f "$tmp/port"
  "$BIN" exchange-sim --data "BTC/USDT=$FIX/btcusdt_1h.csv" --listen 127.0.0.1:0 \
    --port-file "$tmp/port" --speed paused --start end --quiet ${1:+--faults "$1"} &
  pid=$!
  for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
  [ -s "$tmp/port" ] || { echo "FAIL: the simulator did not start"; exit 1; }
  URL="http://127.0.0.1:$(head -1 "$tmp/port")"
}
stop_sim() { kill -TERM "$pid"; wait "$pid"; pid=; }
dl() { # home, extra args...
  local home=$1; shift
  COMEBACK_HOME=$home "$BIN" data download --exchange binance --pair BTC/USDT --timeframe 1h \
    --api-url "$URL" "$@"
}

start_sim ""
out=$(dl "$tmp/a" --from 2024-01-01)
echo "$out"
grep -q "240 new candles, 240 in the store" <<< "$out" || { echo "FAIL: $out"; exit 1; }
out=$(dl "$tmp/a" --from 2024-01-01)
grep -q "up to date, 240 candles" <<< "$out" || { echo "FAIL: rerun: $out"; exit 1; }
# Resumed: first the first four days, then the rest.
dl "$tmp/b" --from 2024-01-03 --to 2024-01-05 | grep -q "48 new candles"
out=$(dl "$tmp/b" --from 2024-01-01)
grep -q "192 new candles, 240 in the store" <<< "$out" || { echo "FAIL: resume: $out"; exit 1; }
stop_sim

start_sim "seed=3,5xx=0.3,429=0.2:2,delay=0.3:100"
dl "$tmp/c" --from 2024-01-01 --to 2024-01-04 > /dev/null
dl "$tmp/c" --from 2024-01-01 > /dev/null
stop_sim

for h in a b c; do
  COMEBACK_HOME=$tmp/$h "$BIN" data export binance:BTC/USDT:1h > "$tmp/$h.csv"
done
cmp "$tmp/a.csv" "$tmp/b.csv" || { echo "FAIL: resumed download differs"; exit 1; }
cmp "$tmp/a.csv" "$tmp/c.csv" || { echo "FAIL: download through faults differs"; exit 1; }
# And it is the replayed series, candle for candle.
python3 - "$tmp/a.csv" "$FIX/btcusdt_1h.csv" <<'PY'
import sys
def rows(p):
    out = []
    for line in open(p):
        if not line[0].isdigit():
            continue
        f = line.strip().split(",")
        out.append((int(f[0]),) + tuple(float(x) for x in f[1:6]))
    return out
a, b = rows(sys.argv[1]), rows(sys.argv[2])
assert a == b, (len(a), len(b), next((x, y) for x, y in zip(a, b) if x != y))
PY

# The downloaded store series can be replayed by the simulator by its store name.
rm -f "$tmp/port"
COMEBACK_HOME=$tmp/a "$BIN" exchange-sim --data binance:BTC/USDT:1h --listen 127.0.0.1:0 \
  --port-file "$tmp/port" --speed paused --start end --quiet &
pid=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
n=$(curl -s --max-time 5 "http://127.0.0.1:$(head -1 "$tmp/port")/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1000" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 240 ] || { echo "FAIL: the store series replayed $n candles"; exit 1; }
stop_sim
echo ok

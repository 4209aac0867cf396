#!/usr/bin/env bash
# Compatibility with a client written elsewhere: ccxt (npm) drives comeback exchange-sim.
# Installs ccxt into a temporary directory at test time; skips (77) when node/npm are missing
# or npm cannot install it.
set -euo pipefail
BIN=${COMEBACK_BIN:?}
SRC=${COMEBACK_SOURCE_DIR:?}
FIX=${COMEBACK_FIXTURES:?}/exchange
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "skip: node and npm are needed for the ccxt test"; exit 77; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

mkdir -p "$tmp/ccxt"
echo '{"name": "comeback-ccxt-test", "private": true}' > "$tmp/ccxt/package.json"
if ! (cd "$tmp/ccxt" && timeout 300 npm install --no-save --no-audit --no-fund --loglevel=error \
        ccxt > "$tmp/npm.log" 2>&1); then
  echo "skip: npm could not install ccxt:"; tail -5 "$tmp/npm.log"; exit 77
fi
echo "ccxt $(cd "$tmp/ccxt" && node -e "console.log(require('ccxt').version)")"

export COMEBACK_API_KEY=ccxtTestKey0123 COMEBACK_API_SECRET=ccxtTestSecret4567
"$BIN" exchange-sim --data "BTC/USDT=$FIX/btcusdt_1h.csv" --listen 127.0.0.1:0 \
  --port-file "$tmp/port" --speed paused --start 2024-01-03 2> "$tmp/sim.log" &
pid=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "FAIL: the simulator did not start"; cat "$tmp/sim.log"; exit 1; }
if ! SIM_URL="http://127.0.0.1:$(head -1 "$tmp/port")" SIM_KEY=$COMEBACK_API_KEY \
     SIM_SECRET=$COMEBACK_API_SECRET CCXT_DIR="$tmp/ccxt" timeout 120 node "$SRC/tests/js/ccxt_sim.js"; then
  echo "--- simulator log"; cat "$tmp/sim.log"; exit 1
fi
kill -TERM "$pid"; wait "$pid"; pid=
if grep -q -e "$COMEBACK_API_SECRET" "$tmp/sim.log"; then echo "FAIL: secret in the log"; exit 1; fi
echo ok

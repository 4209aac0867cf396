#!/usr/bin/env bash
# comeback exchange-sim with an Ed25519 API key, made and used the way docs/exchange.md tells
# users (openssl genpkey; the simulator holds only the public key), signed requests from
# openssl and curl, and a partial fill (--max-fill-fraction) of a quote-sized market order.
set -euo pipefail
BIN=${COMEBACK_BIN:?}
FIX=${COMEBACK_FIXTURES:?}/exchange
command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 77; }
command -v openssl >/dev/null || { echo "skip: openssl is not installed"; exit 77; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# Test-only key pair, made here and deleted with $tmp.
openssl genpkey -algorithm ed25519 -out "$tmp/ed25519.pem" 2>/dev/null
chmod 600 "$tmp/ed25519.pem"
openssl pkey -in "$tmp/ed25519.pem" -pubout -out "$tmp/ed25519.pub.pem"
KEY=cliEd25519Key01
printf 'api_key = %s\npublic_key_file = ed25519.pub.pem\n' "$KEY" > "$tmp/sim.ini"
chmod 600 "$tmp/sim.ini"

set +e
"$BIN" exchange-sim --data "BTC/USDT=$FIX/btcusdt_1h.csv" --max-fill-fraction 1.5 2> "$tmp/err.txt"
rc=$?
set -e
[ $rc -eq 2 ] && grep -q "from 0 to 1" "$tmp/err.txt" || { cat "$tmp/err.txt"; exit 1; }

"$BIN" exchange-sim --data "BTC/USDT=$FIX/btcusdt_1h.csv" --listen 127.0.0.1:0 \
  --port-file "$tmp/port" --speed paused --start 2024-01-03 --key-file "$tmp/sim.ini" \
  --balance "100000 USDT" --max-fill-fraction 0.0001 2> "$tmp/sim.log" &
pid=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "FAIL: the simulator did not start"; cat "$tmp/sim.log"; exit 1; }
URL="http://127.0.0.1:$(head -1 "$tmp/port")"
C="curl -s --max-time 5"
now=$($C "$URL/api/v3/time" | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverTime"])')

# Binance's recipe: the Ed25519 signature of the query, base64, URL-encoded.
sign() {
  printf '%s' "$1" > "$tmp/payload"
  openssl pkeyutl -sign -rawin -inkey "$tmp/ed25519.pem" -in "$tmp/payload" |
    openssl enc -base64 -A |
    python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read(), safe=""))'
}
q="recvWindow=5000&timestamp=$now"
$C -H "X-MBX-APIKEY: $KEY" "$URL/api/v3/account?$q&signature=$(sign "$q")" | python3 -c '
import json,sys
b={x["asset"]:x for x in json.load(sys.stdin)["balances"]}
assert b["USDT"]["free"]=="100000.00000000", b'
other=$(openssl genpkey -algorithm ed25519 2>/dev/null)
bad=$(printf '%s' "$q" > "$tmp/payload"; printf '%s\n' "$other" > "$tmp/other.pem";
      openssl pkeyutl -sign -rawin -inkey "$tmp/other.pem" -in "$tmp/payload" | openssl enc -base64 -A)
r=$($C -H "X-MBX-APIKEY: $KEY" --data-urlencode "signature=$bad" -G "$URL/api/v3/account?$q")
[ "$r" = '{"code":-1022,"msg":"Signature for this request is not valid."}' ] || { echo "FAIL: $r"; exit 1; }

# Spend 5000 USDT at market: more than 0.0001 of the candle's volume, so it fills in part and
# the rest expires.
body="symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=5000&newClientOrderId=cli-q1&recvWindow=5000&timestamp=$now"
$C -X POST -H "X-MBX-APIKEY: $KEY" --data "$body&signature=$(sign "$body")" "$URL/api/v3/order" |
  python3 -c '
import json,sys
o=json.load(sys.stdin)
assert o["status"]=="EXPIRED" and o["origQuoteOrderQty"]=="5000.00000000", o
assert 0 < float(o["executedQty"]) < float(o["origQty"]), o
assert len(o["fills"])==1, o'
$C "$URL/api/v3/exchangeInfo?symbol=BTCUSDT" | python3 -c '
import json,sys
s=json.load(sys.stdin)["symbols"][0]
assert s["quoteOrderQtyMarketAllowed"] is True and s["ocoAllowed"] is True, s'

kill -TERM "$pid"
wait "$pid"
pid=
if grep -q -e "$KEY" -e "PRIVATE" "$tmp/sim.log"; then echo "FAIL: key material reached the log"; exit 1; fi
echo ok

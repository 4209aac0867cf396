#!/usr/bin/env bash
# comeback exchange-sim with an Ed25519 API key, made and used the way docs/exchange.md tells
# users (openssl genpkey; the simulator holds only the public key), signed requests from
# openssl and curl, a partial fill (--max-fill-fraction) of a quote-sized market order, and
# malformed quoteOrderQty, timeInForce and OCO requests answered with Binance's words.
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

# The new parameters, malformed: Binance's codes and words.
post() { $C -X POST -H "X-MBX-APIKEY: $KEY" --data "$1&signature=$(sign "$1")" "$URL$2"; }
expect() {
  local got
  got=$(post "$1&recvWindow=5000&timestamp=$now" "$2")
  [ "$got" = "$3" ] || { echo "FAIL: $1 -> $got (want $3)"; exit 1; }
}
O=/api/v3/order
L=/api/v3/orderList/oco
expect "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=40000&quoteOrderQty=10" $O \
  '{"code":-1106,"msg":"Parameter '"'"'quoteOrderQty'"'"' sent when not required."}'
expect "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&quoteOrderQty=10" $O \
  '{"code":-1106,"msg":"Parameter '"'"'quantity'"'"' sent when not required."}'
expect "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=40000&timeInForce=GTD" $O \
  '{"code":-1115,"msg":"Invalid timeInForce."}'
expect "symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.001&price=40000" $O \
  '{"code":-1116,"msg":"Invalid orderType."}'
oco="symbol=BTCUSDT&side=SELL&quantity=0.0001&aboveType=LIMIT_MAKER&abovePrice=60000"
expect "$oco" $L \
  '{"code":-1102,"msg":"Mandatory parameter '"'"'belowType'"'"' was not sent, was empty/null, or malformed."}'
expect "$oco&belowType=MARKET" $L '{"code":-1116,"msg":"Invalid orderType."}'
expect "$oco&belowType=STOP_LOSS_LIMIT&belowStopPrice=30000&belowPrice=29000" $L \
  '{"code":-1102,"msg":"Mandatory parameter '"'"'belowTimeInForce'"'"' was not sent, was empty/null, or malformed."}'
expect "symbol=BTCUSDT&side=SELL&quantity=0.001&aboveType=LIMIT_MAKER&abovePrice=30000&belowType=STOP_LOSS&belowStopPrice=20000" $L \
  '{"code":-2010,"msg":"Order would immediately match and take."}'
r=$($C -X DELETE -H "X-MBX-APIKEY: $KEY" "$URL/api/v3/orderList?symbol=BTCUSDT&listClientOrderId=nope&recvWindow=5000&timestamp=$now&signature=$(sign "symbol=BTCUSDT&listClientOrderId=nope&recvWindow=5000&timestamp=$now")")
[ "$r" = '{"code":-2011,"msg":"Order list does not exist."}' ] || { echo "FAIL: $r"; exit 1; }

kill -TERM "$pid"
wait "$pid"
pid=
if grep -q -e "$KEY" -e "PRIVATE" "$tmp/sim.log"; then echo "FAIL: key material reached the log"; exit 1; fi
echo ok

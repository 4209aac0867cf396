#!/usr/bin/env bash
# comeback exchange-sim as a program: Binance REST over loopback with curl, signature checks,
# an order, the audit state, clean shutdown on SIGTERM, key-file permissions, no secret in logs.
set -euo pipefail
BIN=${COMEBACK_BIN:?}
FIX=${COMEBACK_FIXTURES:?}/exchange
command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 77; }
command -v openssl >/dev/null || { echo "skip: openssl is not installed"; exit 77; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

KEY=cliTestKey0123
SECRET=cliTestSecretNeverLogged42
printf 'api_key = %s\napi_secret = %s\n' "$KEY" "$SECRET" > "$tmp/keys.ini"
chmod 644 "$tmp/keys.ini"
if "$BIN" exchange-sim --data "BTC/USDT=$FIX/btcusdt_1h.csv" --key-file "$tmp/keys.ini" \
     2> "$tmp/err.txt"; then
  echo "FAIL: a group-readable key file was accepted"; exit 1
fi
grep -q "chmod 600" "$tmp/err.txt" || { echo "FAIL: no chmod advice"; cat "$tmp/err.txt"; exit 1; }
chmod 600 "$tmp/keys.ini"

set +e
"$BIN" exchange-sim --data "BTC/USDT=$FIX/btcusdt_1h.csv" --listen nowhere 2> "$tmp/err.txt"
rc=$?
set -e
[ $rc -eq 1 ] || [ $rc -eq 2 ] || { echo "FAIL: bad --listen gave $rc"; exit 1; }
grep -q "is not ADDRESS:PORT" "$tmp/err.txt" || { cat "$tmp/err.txt"; exit 1; }
set +e
"$BIN" exchange-sim --data "$FIX/btcusdt_1h.csv" 2> "$tmp/err.txt"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "name it as PAIR=FILE" "$tmp/err.txt" || { cat "$tmp/err.txt"; exit 1; }

"$BIN" exchange-sim --data "BTC/USDT=$FIX/btcusdt_1h.csv" --listen 127.0.0.1:0 \
  --port-file "$tmp/port" --speed paused --start 2024-01-03 --key-file "$tmp/keys.ini" \
  --balance "1000 USDT" 2> "$tmp/sim.log" &
pid=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "FAIL: the simulator did not start"; cat "$tmp/sim.log"; exit 1; }
URL="http://127.0.0.1:$(head -1 "$tmp/port")"
C="curl -s --max-time 5"

[ "$($C "$URL/api/v3/ping")" = "{}" ]
now=$($C "$URL/api/v3/time" | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverTime"])')
[ "$now" = 1704240000000 ] || { echo "FAIL: serverTime $now"; exit 1; }
$C "$URL/api/v3/exchangeInfo?symbol=BTCUSDT" | python3 -c '
import json,sys
s=json.load(sys.stdin)["symbols"][0]
assert s["symbol"]=="BTCUSDT" and s["baseAsset"]=="BTC", s
f={x["filterType"]:x for x in s["filters"]}
assert f["PRICE_FILTER"]["tickSize"]=="0.01000000", f
assert f["LOT_SIZE"]["stepSize"]=="0.00001000", f'
n=$($C "$URL/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1000" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 48 ] || { echo "FAIL: $n klines before 2024-01-03"; exit 1; }
hdr=$(curl -s -D - -o /dev/null "$URL/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=5")
grep -qi "^x-mbx-used-weight-1m: [0-9]" <<< "$hdr" || { echo "FAIL: no weight header"; exit 1; }
err=$($C "$URL/api/v3/klines?symbol=XRPUSDT&interval=1h")
[ "$err" = '{"code":-1121,"msg":"Invalid symbol."}' ] || { echo "FAIL: $err"; exit 1; }

sign() { printf '%s' "$1" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= //'; }
q="omitZeroBalances=false&recvWindow=5000&timestamp=$now"
$C -H "X-MBX-APIKEY: $KEY" "$URL/api/v3/account?$q&signature=$(sign "$q")" | python3 -c '
import json,sys
b={x["asset"]:x for x in json.load(sys.stdin)["balances"]}
assert b["USDT"]["free"]=="1000.00000000", b'
bad=$($C -H "X-MBX-APIKEY: $KEY" "$URL/api/v3/account?$q&signature=00ff")
[ "$bad" = '{"code":-1022,"msg":"Signature for this request is not valid."}' ] || { echo "FAIL: $bad"; exit 1; }
nokey=$($C "$URL/api/v3/account?$q&signature=$(sign "$q")")
grep -q '"code":-2014' <<< "$nokey" || { echo "FAIL: $nokey"; exit 1; }

# A market buy, with the parameters in the request body as ccxt sends them.
body="symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.002&newClientOrderId=cli-1&recvWindow=5000&timestamp=$now"
$C -X POST -H "X-MBX-APIKEY: $KEY" -H "Content-Type: application/x-www-form-urlencoded" \
  --data "$body&signature=$(sign "$body")" "$URL/api/v3/order" | python3 -c '
import json,sys
o=json.load(sys.stdin)
assert o["status"]=="FILLED" and o["clientOrderId"]=="cli-1" and len(o["fills"])==1, o'
poor="symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1&newClientOrderId=cli-2&recvWindow=5000&timestamp=$now"
r=$($C -X POST -H "X-MBX-APIKEY: $KEY" "$URL/api/v3/order?$poor&signature=$(sign "$poor")")
[ "$r" = '{"code":-2010,"msg":"Account has insufficient balance for requested action."}' ] || { echo "FAIL: $r"; exit 1; }
$C -X POST "$URL/sim/v1/advance?candles=2" > /dev/null
$C "$URL/sim/v1/state" | python3 -c '
import json,sys
s=json.load(sys.stdin)
assert s["time_ms"]==1704240000000+2*3600000, s["time_ms"]
assert [o["client_order_id"] for o in s["orders"]]==["cli-1"], s["orders"]
o=s["orders"][0]
for k in ("client_order_id","order_id","pair","side","type","status","quantity","executed_quantity","price","created_ms","updated_ms"):
    assert k in o, k
f=s["fills"][0]
for k in ("trade_id","order_id","client_order_id","pair","side","price","quantity","fee","fee_asset","time_ms"):
    assert k in f, k
assert f["quantity"]=="0.002" and f["fee_asset"]=="BTC" and f["fee"]=="0.000002", f
assert s["balances"]["BTC"]["free"]=="0.001998", s["balances"]'

# The market stream port is the second line; a WebSocket upgrade on it answers 101.
WS="127.0.0.1:$(sed -n 2p "$tmp/port")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "Connection: Upgrade" \
  -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" \
  -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" "http://$WS/ws/btcusdt@kline_1h" || true)
[ "$code" = 101 ] || { echo "FAIL: websocket upgrade answered $code"; exit 1; }

kill -TERM "$pid"
wait "$pid"
pid=
if grep -q -e "$SECRET" -e "$KEY" "$tmp/sim.log"; then echo "FAIL: a key reached the log"; exit 1; fi
echo ok

#!/usr/bin/env bash
# `comeback rules eval` and `comeback ta` on the zero-volume maintenance stretch of Binance
# BTC/USDT 5m (2023-03-24 11:25..12:35 UTC, 15 closes of 28080.0): the 15-bar SMA of a flat
# window is the price itself, so crossover/crossunder(close, sma(close, 15)) do not fire on it
# (they did, on a residue of 4e-11 of SMA's running sum). Skipped without ../shared/data.
set -u
bin=${COMEBACK_BIN:?}
data=${COMEBACK_SHARED_DATA:?}/ohlcv/binance_spot_BTCUSDT_5m_2023-03-16_2023-05-01.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
if [ ! -f "$data" ]; then
  echo "skipped: ../shared/data is absent (set COMEBACK_SHARED_DATA)"; exit 77
fi
cat >"$tmp/s.ini" <<'INI'
[strategy]
name = sma-cross
timeframe = 5m
entry = crossover(close, sma(close, 15))
exit = crossunder(close, sma(close, 15))
stoploss = 5%
INI
"$bin" rules eval "$tmp/s.ini" "$data" >"$tmp/sig.csv" || fail "rules eval"
# 12:30 a true crossunder (28080.39 is still in the window); 12:35 flat; 13:00 still below
got=$(grep -E '^16796(610|613|664)00000,' "$tmp/sig.csv" | tr '\n' ' ')
want="1679661000000,0,1 1679661300000,0,0 1679666400000,0,0 "
[ "$got" = "$want" ] || fail "signals around the flat stretch: got '$got', want '$want'"
"$bin" ta "$data" --indicator sma:15 --indicator bbands:15:2 --indicator stddev:15 \
  --indicator cci:14 >"$tmp/ta.csv" || fail "ta"
row=$(grep '^1679661300000,' "$tmp/ta.csv")
[ "$row" = "1679661300000,28080,28080,28080,28080,0,0" ] \
  || fail "indicators on the flat window: got '$row'"
echo "ok"

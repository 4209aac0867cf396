#!/usr/bin/env bash
# End to end: comeback data synth/import/list/info/resample/export and comeback demo, with
# COMEBACK_HOME in a temporary directory.
set -uo pipefail
bin=${COMEBACK_BIN:?COMEBACK_BIN is not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export COMEBACK_HOME="$tmp/home"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
# run EXPECTED_STATUS CMD...: runs the command, keeps stdout+stderr in $out.
run() {
  local want=$1; shift
  out=$("$@" 2>&1); local got=$?
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; output: $out"
}
has() { grep -qF -- "$1" <<<"$out" || fail "expected '$1' in output of the last command: $out"; }

# An empty store.
run 0 "$bin" data list
has "no series in $COMEBACK_HOME/data"

# synth into the store and into files.
run 0 "$bin" data synth --bars 5000 --seed 7 --store
has "SYNTHETIC market: 5000 1m candles of SYN/USDT, synth seed=7"
has "-> synth:SYN/USDT:1m"
[ -f "$COMEBACK_HOME/data/synth/SYN_USDT-1m.cbk" ] || fail "store file not created"
run 0 "$bin" data synth --bars 5000 --seed 7 --out "$tmp/a.cbk"
cmp -s "$tmp/a.cbk" "$COMEBACK_HOME/data/synth/SYN_USDT-1m.cbk" || fail "synth is not deterministic"
run 0 "$bin" data synth --bars 3000 --seed 8 --out "$tmp/b.cbk"

# list and info.
run 0 "$bin" data list
has "synth:SYN/USDT:1m"
has "5000  2020-01-01 00:00:00  2020-01-04 11:19:00  SYNTHETIC"
run 0 "$bin" data info synth:SYN/USDT:1m
has "SYNTHETIC"
has "rows        5000"
has "source      synth seed=7"
has "span        3 days 11:20"
sha_store=$(grep sha256 <<<"$out" | awk '{print $2}')
run 0 "$bin" data info "$tmp/a.cbk"
has "sha256      $sha_store"

# import a store file under another name, twice (the second adds nothing), then a conflict.
run 0 "$bin" data import "$tmp/a.cbk" --exchange binance --pair BTC/USDT --timeframe 1m
has "imported $tmp/a.cbk into binance:BTC/USDT:1m: 5000 new candles, 5000 in the series"
run 0 "$bin" data import "$tmp/a.cbk" --exchange binance --pair BTC/USDT --timeframe 1m
has "0 new candles, 5000 in the series"
run 1 "$bin" data import "$tmp/b.cbk" --exchange binance --pair BTC/USDT --timeframe 1m
has "conflicts with the stored series binance:BTC/USDT:1m"
has "$tmp/b.cbk: candle 2020-01-01 00:00:00: "
has "differs (time_ms 1577836800000): stored o=20000"

# resample into the store and into a file.
run 0 "$bin" data resample synth:SYN/USDT:1m --to 1h --store
has "resampled 5000 1m candles into 83 1h candles (1 incomplete bucket skipped) -> synth:SYN/USDT:1h  SYNTHETIC"
run 0 "$bin" data resample synth:SYN/USDT:1m --to 1h --keep-incomplete --out "$tmp/h.cbk"
has "into 84 1h candles (1 incomplete bucket kept)"
run 0 "$bin" data info "$tmp/h.cbk"
has "rows        84"
has "timeframe   1h"

# export to a store file round-trips to the same candles.
run 0 "$bin" data export synth:SYN/USDT:1m --format cbk --output "$tmp/e.cbk"
run 0 "$bin" data info "$tmp/e.cbk"
has "sha256      $sha_store"

# Bad arguments: usage errors (exit 2) with a sentence.
run 2 "$bin" data
has "which subcommand?"
run 2 "$bin" data frobnicate
has "unknown subcommand 'frobnicate'"
run 2 "$bin" data synth --bars 0 --store
has "--bars must be a whole number from 1 to 10^9, not '0'"
run 2 "$bin" data synth --bars 10
has "give either --out FILE (.csv or .cbk) or --store"
run 2 "$bin" data synth --bars 10 --timeframe 7x --store
has "'7x' is not a timeframe"
run 2 "$bin" data synth --bars 10 --out x.txt
has "--out FILE must end in .csv or .cbk"
run 2 "$bin" data resample synth:SYN/USDT:1m --store
has "--to TIMEFRAME is required"
run 2 "$bin" data resample synth:SYN/USDT:1m --to 90s --store
has "90s candles cannot be built from whole 1m candles"
run 2 "$bin" data import "$tmp/a.cbk" --exchange binance --pair BTCUSDT --timeframe 1m
has "is not a valid store name"
run 2 "$bin" data list extra
run 2 "$bin" data info
has "which SERIES?"
run 1 "$bin" data info binance:ETH/USDT:1h
has "binance:ETH/USDT:1h: no such series in the store"
printf 'garbage' > "$tmp/bad.cbk"
run 1 "$bin" data info "$tmp/bad.cbk"
has "$tmp/bad.cbk: not a Comeback store file (bad magic"

# The demo: fast, labelled SYNTHETIC, leaves its series in the store.
out=$("$bin" demo 2>&1); st=$?
if grep -qF "data check: not yet implemented" <<<"$out"; then
  echo "note: 'data check' has not landed yet; demo exit status not checked"
elif [ "$st" -ne 0 ]; then
  fail "demo exited $st: $out"
fi
has "SYNTHETIC market"
has "== comeback data info synth:SYN/USDT:1m"
has "rows        100000"
has "== comeback data check synth:SYN/USDT:1m"
run 0 "$bin" data list
has "synth:SYN/USDT:1m                100000"

echo "data_cli: $fails failure(s)"
[ "$fails" -eq 0 ]

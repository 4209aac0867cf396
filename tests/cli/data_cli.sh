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
has "differs (time_ms 1577836800000): stored o=20000 h="

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

# CSV: export round-trips exactly through import (same candles, same sha256).
run 0 "$bin" data export synth:SYN/USDT:1m --output "$tmp/e.csv"
head -1 "$tmp/e.csv" | grep -qx 'time_ms,open,high,low,close,volume' || fail "export header"
[ "$(wc -l < "$tmp/e.csv")" -eq 5001 ] || fail "export rows"
run 0 "$bin" data import "$tmp/e.csv" --exchange rt --pair SYN/USDT --timeframe 1m
has "5000 new candles"
run 0 "$bin" data info rt:SYN/USDT:1m
has "sha256      $sha_store"
# ... also through standard output, and synth straight to CSV.
"$bin" data export synth:SYN/USDT:1m > "$tmp/e2.csv" || fail "export to stdout"
cmp -s "$tmp/e.csv" "$tmp/e2.csv" || fail "export to stdout differs from --output"
run 0 "$bin" data synth --bars 5000 --seed 7 --out "$tmp/s.csv"
cmp -s "$tmp/e.csv" "$tmp/s.csv" || fail "synth --out x.csv differs from the exported store series"
run 0 "$bin" data info "$tmp/s.csv"
has "sha256      $sha_store"
has "format      csv"
# Appending: the first half, then the whole file (overlap agrees), then a changed candle.
head -2501 "$tmp/e.csv" > "$tmp/half.csv"
run 0 "$bin" data import "$tmp/half.csv" --exchange ap --pair SYN/USDT --timeframe 1m
has "2500 new candles, 2500 in the series"
run 0 "$bin" data import "$tmp/e.csv" --exchange ap --pair SYN/USDT --timeframe 1m
has "2500 new candles, 5000 in the series"
sed '3s/^\([0-9]*\),\([^,]*\),/\1,\2,/; 3s/,[^,]*$/,999/' "$tmp/e.csv" > "$tmp/changed.csv"
run 1 "$bin" data import "$tmp/changed.csv" --exchange ap --pair SYN/USDT --timeframe 1m
has "$tmp/changed.csv: candle 2020-01-01 00:01:00: 'volume' differs (time_ms 1577836860000)"
has ", new o=20015.47 h=20019.75 l=19998.92 c=20001.35 v=999"
# A bad row: a precise error, or skipped and counted with --skip-bad-rows.
sed '4s/,[^,]*,/,abc,/' "$tmp/e.csv" > "$tmp/bad.csv"
run 1 "$bin" data import "$tmp/bad.csv" --exchange bad --pair SYN/USDT --timeframe 1m
has "$tmp/bad.csv:4: column 'open'"
run 0 "$bin" data import "$tmp/bad.csv" --exchange bad --pair SYN/USDT --timeframe 1m --skip-bad-rows
has "skipped 1 bad row (--skip-bad-rows)"
has "4999 new candles"

# Real files, when the shared data is here: import, resample in the store, check.
shared=${COMEBACK_SHARED_DATA:-}/ohlcv
if [ -f "$shared/binance_spot_BTCUSDT_1m_2023-03-16_2023-05-01.csv" ]; then
  run 0 "$bin" data import "$shared/binance_spot_BTCUSDT_1m_2023-03-16_2023-05-01.csv" --exchange real --pair BTC/USDT --timeframe 1m --format csv
  has "into real:BTC/USDT:1m: 66087 new candles"
  run 0 "$bin" data resample real:BTC/USDT:1m --to 5m --out "$tmp/5m.csv"
  has "resampled 66087 1m candles into 13217 5m candles (1 incomplete bucket skipped)"
  # Binance's own 5m file: the same candles (volumes may differ in the last bits: compare
  # the price columns exactly).
  cut -d, -f1-5 "$tmp/5m.csv" | tail -n +2 > "$tmp/ours"
  cut -d, -f1-5 "$shared/binance_spot_BTCUSDT_5m_2023-03-16_2023-05-01.csv" | tail -n +2 > "$tmp/theirs"
  paste -d, "$tmp/ours" "$tmp/theirs" | awk -F, '{ for (i = 1; i <= 5; i++) if ($i + 0 != $(i + 5) + 0) { print "line " NR ": " $0; bad++ } } END { exit bad > 0 }' \
    || fail "1m->5m prices differ from Binance's 5m file"
  [ "$(wc -l < "$tmp/ours")" -eq "$(wc -l < "$tmp/theirs")" ] || fail "1m->5m row count"
  run 0 "$bin" data import "$shared/freqtrade_testdata_UNITTEST_BTC-1m.json" --exchange binance --pair UNITTEST/BTC --timeframe 1m
  has "13681 new candles"
  run 0 "$bin" data check binance:UNITTEST/BTC:1m
  has "rows:        13681"
else
  echo "note: shared data absent, real-file part skipped"
fi

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
run 0 "$bin" demo
has "SYNTHETIC market"
has "== comeback data info synth:SYN/USDT:1m"
has "rows        100000"
has "== comeback data check synth:SYN/USDT:1m"
has "series:      synth:SYN/USDT:1m (SYNTHETIC data)"
has "hard errors: 0"
run 0 "$bin" data list
has "synth:SYN/USDT:1m                100000"

echo "data_cli: $fails failure(s)"
[ "$fails" -eq 0 ]

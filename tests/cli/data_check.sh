#!/usr/bin/env bash
# `comeback data check FILE`: the summary (rows, span, timeframe, gaps, zero volume), every hard
# error as an exact diagnostic line, exit statuses, --skip-bad-rows, and the real BTC 1h file's
# 27 gaps / 127 missing candles from ../shared/data/README.md.
set -u
bin=${COMEBACK_BIN:?}
fix=${COMEBACK_FIXTURES:?}/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Until `comeback data` dispatches to `check`, there is nothing to test end to end.
if "$bin" data check "$fix/good_newest_first.csv" 2>&1 | grep -q "not yet implemented"; then
  echo "data check is not wired yet: skipped"; exit 77
fi

# 1. A clean file: newest first behind a banner line, mixed s/ms times, a gap, zero volume.
"$bin" data check "$fix/good_newest_first.csv" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || fail "clean file: exit $rc: $(cat "$tmp/err")"
cat >"$tmp/want" <<TXT
series:      $fix/good_newest_first.csv
format:      csv (time column 'unix', mixed, newest first, reversed)
ignored:     date,symbol,Volume USDT,tradecount
rows:        4
first:       2023-11-14 22:00:00 UTC
last:        2023-11-15 04:00:00 UTC
timeframe:   1h (inferred from the most common spacing)
gaps:        2 (3 missing candles)
largest gaps (after the candle of):
  2023-11-15 01:00:00 UTC  2 missing
  2023-11-14 22:00:00 UTC  1 missing
zero volume: 1 candles
hard errors: 0
TXT
diff -u "$tmp/want" "$tmp/out" || fail "clean file summary differs"

# 2. Hard errors: listed with file:line: column, exit 1.
"$bin" data check "$fix/bad.csv" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "bad file: exit $rc"
grep -qx "rows:        3 (of 5 in the file)" "$tmp/out" || fail "bad file rows: $(cat "$tmp/out")"
grep -qx "hard errors: 2" "$tmp/out" || fail "bad file count: $(cat "$tmp/out")"
grep -qxF "  $fix/bad.csv:3: column 'high': 101.5 is below 'low' 102.0" "$tmp/out" \
  || fail "high<low diagnostic: $(cat "$tmp/out")"
grep -qxF "  $fix/bad.csv:4: column 'open': expected a number, got \"1.2.3\"" "$tmp/out" \
  || fail "number diagnostic: $(cat "$tmp/out")"

# --skip-bad-rows: the same listing, but what remains is clean, so exit 0.
"$bin" data check "$fix/bad.csv" --skip-bad-rows >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || fail "--skip-bad-rows: exit $rc"
grep -qx "skipped:     2 bad rows" "$tmp/out" || fail "skipped count: $(cat "$tmp/out")"

# A timeframe that is not the file's own spacing: one sentence naming both, not a grid error
# per row.
"$bin" data check "$fix/bad.csv" --timeframe 1d >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "--timeframe 1d: exit $rc"
grep -qF "bad.csv: the file's candles are 1h apart; --timeframe says 1d" "$tmp/out" \
  || fail "spacing diagnostic: $(cat "$tmp/out")"
grep -qF "is not on the 1d grid" "$tmp/out" && fail "grid lines after the spacing sentence"

# 3. Usage errors exit 2; an unreadable file exits 1.
"$bin" data check >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "no argument: exit $rc"
"$bin" data check "$fix/bad.csv" --format parquet >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "bad format: exit $rc"
"$bin" data check "$tmp/none.csv" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "missing file: exit $rc"
grep -qF "none.csv: cannot open: No such file or directory" "$tmp/err" || fail "missing file message"

# 4. A store name: the same candles imported into a fresh store check the same.
export COMEBACK_HOME="$tmp/home"
"$bin" data import "$fix/good_newest_first.csv" --exchange binance --pair BTC/USDT \
  --timeframe 1h >/dev/null || fail "import for the store case: exit $?"
"$bin" data check binance:BTC/USDT:1h >"$tmp/out" 2>"$tmp/err" || fail "store check: exit $?"
grep -qx "gaps:        2 (3 missing candles)" "$tmp/out" || fail "store gaps: $(cat "$tmp/out")"
grep -qx "hard errors: 0" "$tmp/out" || fail "store errors: $(cat "$tmp/out")"
"$bin" data check binance:ETH/USDT:1h >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "missing store series: exit $rc"

# 5. The real BTC/USDT 1h file: 27 gaps, 127 missing candles, the largest 33 h after 2018-02-08.
real=${COMEBACK_SHARED_DATA:-}/ohlcv/binance_spot_BTCUSDT_1h_2017-08-17_2022-10-11.csv
if [ -f "$real" ]; then
  "$bin" data check "$real" >"$tmp/out" || fail "real file: exit $?"
  grep -qx "rows:        45024" "$tmp/out" || fail "real rows"
  grep -qx "gaps:        27 (127 missing candles)" "$tmp/out" || fail "real gaps: $(cat "$tmp/out")"
  grep -qx "  2018-02-08 00:00:00 UTC  33 missing" "$tmp/out" || fail "real largest gap"
  cdd=${COMEBACK_SHARED_DATA}/ohlcv/cryptodatadownload_Binance_BTCUSDT_1h_2017-08-17_2021-06-10_raw.csv
  "$bin" data check "$cdd" >"$tmp/out"; rc=$?
  [ $rc -eq 1 ] || fail "cryptodatadownload without --skip-bad-rows: exit $rc"
  grep -qx "hard errors: 2649" "$tmp/out" || fail "cryptodatadownload errors"
  "$bin" data check "$cdd" --skip-bad-rows >"$tmp/out" || fail "cryptodatadownload skip: exit $?"
  grep -qx "rows:        33413 (of 36062 in the file)" "$tmp/out" || fail "cdd rows"
fi
echo "data check: ok"

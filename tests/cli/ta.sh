#!/usr/bin/env bash
# `comeback ta`: exact CSV layout on a hand-made fixture, errors, `help ta` listing the table,
# and (with ../shared) byte-identical text to TA-Lib's own output for every column we have.
set -u
bin=${COMEBACK_BIN:?}
fix=${COMEBACK_FIXTURES:?}/ta
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. Layout: header, empty cells before the lookback, multi-output columns, %.17g.
"$bin" ta "$fix/tiny.csv" --indicator sma:3 --indicator mom:1 --indicator bbands:2:1 \
  >"$tmp/out.csv" || fail "ta on tiny.csv failed"
cat >"$tmp/want.csv" <<'CSV'
time_ms,sma:3,mom:1,bbands:2:1.upper,bbands:2:1.middle,bbands:2:1.lower
1704067200000,,,,,
1704070800000,,1,11,10.5,10
1704074400000,11,1,12,11.5,11
1704078000000,11.5,-0.5,12,11.75,11.5
1704081600000,11.166666666666666,-1.5,11.5,10.75,10
CSV
diff -u "$tmp/want.csv" "$tmp/out.csv" || fail "tiny.csv output differs"

# --output writes the same bytes to a file.
"$bin" ta "$fix/tiny.csv" --indicator sma:3 --indicator mom:1 --indicator bbands:2:1 \
  --output "$tmp/file.csv" >/dev/null || fail "--output failed"
cmp -s "$tmp/file.csv" "$tmp/want.csv" || fail "--output file differs"

# 2. Errors: exit 2 with a message naming what is accepted.
"$bin" ta "$fix/tiny.csv" --indicator rsx:3 >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown indicator: exit $rc"
grep -q "unknown indicator 'rsx' (did you mean 'rsi'?); indicators: sma, ema" "$tmp/err" \
  || fail "unknown indicator message: $(cat "$tmp/err")"
"$bin" ta "$fix/tiny.csv" --indicator rsi:1 >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bad option: exit $rc"
grep -q "rsi option 1 'period': expected a whole number from 2 to 100000, got 1" "$tmp/err" \
  || fail "bad option message: $(cat "$tmp/err")"
"$bin" ta "$fix/tiny.csv" --indicator macd:12:26:9:4 >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "too many options: exit $rc"
grep -q "macd takes at most 3 options" "$tmp/err" || fail "too many options message"
"$bin" ta "$fix/tiny.csv" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "no indicator: exit $rc"
"$bin" ta "$tmp/missing.csv" --indicator sma:3 >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "missing series: exit $rc"
"$bin" ta "$fix/tiny.csv" --indicator beta >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "beta without --with: exit $rc"

# 3. `comeback help ta` lists every indicator documented in docs/indicators.md.
"$bin" help ta >"$tmp/help" || fail "help ta"
for name in $(sed -n 's/^### \([a-z0-9_]*\) .*/\1/p' "${COMEBACK_SOURCE_DIR:?}/docs/indicators.md"); do
  grep -q "^  $name " "$tmp/help" || fail "help ta does not list $name"
done

# 4. Byte-identical to TA-Lib's output over 45,024 BTC/USDT hours, column by column.
ref=${COMEBACK_SHARED_DATA:-}/talib/talib_generated_BTCUSDT_1h_2017-2022_series.csv.gz
src=${COMEBACK_SHARED_DATA:-}/ohlcv/binance_spot_BTCUSDT_1h_2017-08-17_2022-10-11.csv
if [ ! -f "$ref" ] || [ ! -f "$src" ]; then
  echo "skipped the TA-Lib comparison: ../shared/data is absent"; exit 0
fi
zcat "$ref" >"$tmp/ref.csv"
IFS=, read -r -a cols <"$tmp/ref.csv"
specs=()
for c in "${cols[@]:1}"; do
  s=${c%.*}                          # drop an output suffix, if it is one
  if [ "$s" != "$c" ] && "$bin" ta "$fix/tiny.csv" --indicator "$s" >/dev/null 2>&1 \
     && "$bin" ta "$fix/tiny.csv" --indicator "$s" | head -1 | grep -q ",$c\(,\|$\)"; then
    :
  else
    s=$c
  fi
  "$bin" ta "$fix/tiny.csv" --indicator "$s" >/dev/null 2>&1 || { echo "not yet: $c"; continue; }
  case " ${specs[*]-} " in *" $s "*) ;; *) specs+=("$s") ;; esac
done
args=()
for s in "${specs[@]}"; do args+=(--indicator "$s"); done
"$bin" ta "$src" "${args[@]}" >"$tmp/ours.csv" || fail "ta on the BTC series"
IFS=, read -r -a ours <"$tmp/ours.csv"
n=0
for j in "${!ours[@]}"; do
  name=${ours[$j]}
  for i in "${!cols[@]}"; do
    if [ "${cols[$i]}" = "$name" ]; then
      cut -d, -f$((i + 1)) "$tmp/ref.csv" >"$tmp/a"
      cut -d, -f$((j + 1)) "$tmp/ours.csv" >"$tmp/b"
      cmp -s "$tmp/a" "$tmp/b" || fail "column $name differs from TA-Lib's text"
      n=$((n + 1))
    fi
  done
done
echo "ok: $n columns byte-identical to TA-Lib's output"

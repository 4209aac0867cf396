#!/usr/bin/env bash
# The store never loses or mislabels candles (issue 14): resample --store merges instead of
# replacing, data delete / data rename, a --timeframe that is not the file's spacing, CR-only
# line endings, store names checked in one place, stale temporary files of killed writers,
# checked writes. COMEBACK_HOME in a temporary directory; the parts on real Binance candles
# skip when ../shared/data is absent.
set -uo pipefail
bin=${COMEBACK_BIN:?COMEBACK_BIN is not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export COMEBACK_HOME="$tmp/home"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
run() {
  local want=$1; shift
  out=$("$@" 2>&1); local got=$?
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; output: $out"
}
has() { grep -qF -- "$1" <<<"$out" || fail "expected '$1' in output of the last command: $out"; }
hasnt() { ! grep -qF -- "$1" <<<"$out" || fail "did not expect '$1' in: $out"; }
sha() { "$bin" data info "$1" | awk '/^sha256/ {print $2}'; }
store="$COMEBACK_HOME/data"

# ---- resample --store never replaces a stored series ----------------------------------------
run 0 "$bin" data synth --bars 3000 --seed 1 --store
run 0 "$bin" data synth --bars 600 --seed 2 --timeframe 1h --out "$tmp/other-1h.cbk"
run 0 "$bin" data import "$tmp/other-1h.cbk" --exchange synth --pair SYN/USDT --timeframe 1h
before=$(sha synth:SYN/USDT:1h)
run 1 "$bin" data resample synth:SYN/USDT:1m --to 1h --store
has "the resampled candles conflict with the stored series synth:SYN/USDT:1h; nothing was written"
has "synth:SYN/USDT:1h: candle 2020-01-01 00:00:00: 'high' differs (time_ms 1577836800000): stored o=20000 h=20024.96"
has "comeback data delete synth:SYN/USDT:1h"
[ "$(sha synth:SYN/USDT:1h)" = "$before" ] || fail "the stored 1h series changed after a refused resample"
# When the user means it: delete, then resample stores; a second resample adds nothing.
run 0 "$bin" data delete synth:SYN/USDT:1h
has "deleted synth:SYN/USDT:1h: 600 candles"
[ -e "$store/synth/SYN_USDT-1h.cbk" ] && fail "delete left the file"
run 1 "$bin" data delete synth:SYN/USDT:1h
has "synth:SYN/USDT:1h: no such series in the store"
run 0 "$bin" data resample synth:SYN/USDT:1m --to 1h --store
has "synth:SYN/USDT:1h: 50 new candles, 50 in the series"
run 0 "$bin" data resample synth:SYN/USDT:1m --to 1h --store
has "synth:SYN/USDT:1h: 0 new candles, 50 in the series"
# synth --store follows the same rule: the same seed agrees, another one conflicts.
run 0 "$bin" data synth --bars 3000 --seed 1 --store
run 1 "$bin" data synth --bars 3000 --seed 9 --store
has "the generated candles conflict with the stored series synth:SYN/USDT:1m"

# ---- rename ---------------------------------------------------------------------------------
sha1m=$(sha synth:SYN/USDT:1m)
run 0 "$bin" data rename synth:SYN/USDT:1m lab:SYN/USDT:1m
has "renamed synth:SYN/USDT:1m to lab:SYN/USDT:1m"
[ -e "$store/synth/SYN_USDT-1m.cbk" ] && fail "rename left the old file"
[ "$(sha lab:SYN/USDT:1m)" = "$sha1m" ] || fail "rename changed the candles"
run 0 "$bin" data list
has "lab:SYN/USDT:1m"
hasnt "synth:SYN/USDT:1m"
run 1 "$bin" data rename lab:SYN/USDT:1m synth:SYN/USDT:1h
has "the series holds 1m candles; a new name cannot make them 1h"
run 1 "$bin" data rename lab:SYN/USDT:1m lab:SYN/USDT:1m
has "lab:SYN/USDT:1m already exists"
run 0 "$bin" data synth --bars 10 --seed 3 --pair ABC/USDT --store
run 1 "$bin" data rename lab:SYN/USDT:1m synth:ABC/USDT:1m
has "synth:ABC/USDT:1m already exists"
has "it is never replaced"
[ "$(sha lab:SYN/USDT:1m)" = "$sha1m" ] || fail "a refused rename changed the source"
run 1 "$bin" data rename nope:SYN/USDT:1m x:SYN/USDT:1m
has "nope:SYN/USDT:1m: no such series in the store"
run 2 "$bin" data rename lab:SYN/USDT:1m
has "rename: give SERIES and its NEW name"
run 2 "$bin" data rename lab:SYN/USDT:1m ..:SYN/USDT:1m
has "rename: exchange: '..' is not an exchange name"
run 2 "$bin" data delete "$tmp/other-1h.cbk"
has "delete: "
has "is not a store name"
[ -e "$tmp/other-1h.cbk" ] || fail "delete removed a file that is not in the store"

# ---- store names: checked in one place, never a path outside data/, never cut --------------
run 0 "$bin" data export lab:SYN/USDT:1m --output "$tmp/s.csv"
long=$(printf 'a%.0s' $(seq 300))
for ex in .. . "" "a/b" "$(printf 'x\ty')" "$long" "Binance" ".hidden"; do
  run 2 "$bin" data import "$tmp/s.csv" --exchange "$ex" --pair SYN/USDT --timeframe 1m
done
run 2 "$bin" data import "$tmp/s.csv" --exchange .. --pair SYN/USDT --timeframe 1m
has "import: --exchange: '..' is not an exchange name (lowercase letters, digits, '.', '_' and '-', starting with a letter or digit)"
run 2 "$bin" data import "$tmp/s.csv" --exchange "$long" --pair SYN/USDT --timeframe 1m
has "import: --exchange: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is 300 characters; an exchange name has at most 31"
run 2 "$bin" data import "$tmp/s.csv" --exchange "$(printf 'x\ty')" --pair SYN/USDT --timeframe 1m
has "'x\\x09y' is not an exchange name"
run 2 "$bin" data import "$tmp/s.csv" --exchange ok --pair "$(printf 'B%.0s' $(seq 30))/USDT" --timeframe 1m
has "is 35 characters; a pair has at most 31"
run 2 "$bin" data import "$tmp/s.csv" --exchange ok --pair "../../X" --timeframe 1m
has "import: --pair: '../../X' is not a pair"
run 2 "$bin" data synth --bars 10 --pair "SYN/../x" --store
has "synth: --pair: 'SYN/../x' is not a pair"
ls -A "$tmp" | grep -vxE 'home|other-1h.cbk|s.csv' && fail "something was written outside the store: $(ls -A "$tmp")"
[ "$(ls "$store")" = "$(printf 'lab\nsynth')" ] || fail "store directories: $(ls "$store")"
run 1 "$bin" data info ..:SYN/USDT:1m
has "exchange: '..' is not an exchange name"
has "(and no file has this name)"
run 1 "$bin" data check binance:BTCUSDT:1h
has "pair: 'BTCUSDT' is not a pair"

# ---- --timeframe must be the file's own spacing ---------------------------------------------
run 0 "$bin" data synth --bars 400 --timeframe 4h --seed 4 --out "$tmp/4h.csv"
run 0 "$bin" data synth --bars 400 --timeframe 1h --seed 4 --out "$tmp/1h.csv"
run 1 "$bin" data import "$tmp/4h.csv" --exchange tf --pair SYN/USDT --timeframe 1h
has "4h.csv: the file's candles are 4h apart; --timeframe says 1h"
run 1 "$bin" data import "$tmp/1h.csv" --exchange tf --pair SYN/USDT --timeframe 1m
has "1h.csv: the file's candles are 1h apart; --timeframe says 1m"
run 1 "$bin" data import "$tmp/1h.csv" --exchange tf --pair SYN/USDT --timeframe 4h
has "1h.csv: the file's candles are 1h apart; --timeframe says 4h"
hasnt "grid"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "one sentence expected, got: $out"
[ -e "$store/tf" ] && fail "a refused import created the series"
# A store file knows its timeframe: --timeframe cannot relabel it.
run 0 "$bin" data synth --bars 50 --timeframe 1h --seed 4 --out "$tmp/1h.cbk"
run 1 "$bin" data import "$tmp/1h.cbk" --exchange tf --pair SYN/USDT --timeframe 1m
has "the file's candles are 1h apart; --timeframe says 1m"
# A gap does not change the spacing: drop 30 rows from the middle.
sed '100,129d' "$tmp/1h.csv" > "$tmp/gap.csv"
run 0 "$bin" data import "$tmp/gap.csv" --exchange tf --pair SYN/USDT --timeframe 1h
has "370 new candles"

# ---- CR-only line endings: every reader -----------------------------------------------------
tr '\n' '\r' < "$tmp/1h.csv" > "$tmp/cr.csv"
run 0 "$bin" data import "$tmp/cr.csv" --exchange cr --pair SYN/USDT --timeframe 1h
has "400 new candles, 400 in the series"
[ "$(sha cr:SYN/USDT:1h)" = "$("$bin" data info "$tmp/1h.csv" | awk '/^sha256/ {print $2}')" ] \
  || fail "CR-only CSV gives other candles"
# Binance kline CSV (12 columns, no header) with CR-only lines.
awk -F, 'NR>2 {printf "%s,%s,%s,%s,%s,%s,%d,0,0,0,0,0\r", $1,$2,$3,$4,$5,$6,$1+3599999}' \
  "$tmp/1h.csv" > "$tmp/crb.csv"
run 0 "$bin" data import "$tmp/crb.csv" --exchange crb --pair SYN/USDT --timeframe 1h
has "400 new candles"
# freqtrade JSON with CR-only lines.
awk -F, 'BEGIN {printf "["} NR>2 {printf "%s[%s,%s,%s,%s,%s,%s]\r", (NR>3?",":""), $1,$2,$3,$4,$5,$6} END {printf "]\r"}' \
  "$tmp/1h.csv" > "$tmp/crj.json"
run 0 "$bin" data import "$tmp/crj.json" --exchange crj --pair SYN/USDT --timeframe 1h
has "400 new candles"
# Errors in a CR-only file name the right line.
printf 'time,open,high,low,close,volume\r1699999200000,10,12,9,11,5\r1700002800000,10,12,9,x,5\r' > "$tmp/crbad.csv"
run 1 "$bin" data import "$tmp/crbad.csv" --exchange cr --pair X/Y --timeframe 1h
has "crbad.csv:3: column 'close': expected a number, got \"x\""
# No candles is never "0 new candles" with status 0.
printf 'time,open,high,low,close,volume\r' > "$tmp/empty.csv"
run 1 "$bin" data import "$tmp/empty.csv" --exchange cr --pair X/Y --timeframe 1h
has "empty.csv: no candles in the file; nothing was imported"

# ---- stale temporary files of killed writers ------------------------------------------------
mkdir -p "$store/lab"
sleep 30 & live=$!
( exit 0 ) & dead=$!; wait "$dead"
while kill -0 "$dead" 2>/dev/null; do sleep 0.1; done
head -c 4096 /dev/zero > "$store/lab/SYN_USDT-1m.cbk.tmp.$dead.AbC123"
head -c 100 /dev/zero > "$store/lab/SYN_USDT-1m.cbk.tmp.$live.XyZ789"
head -c 10 /dev/zero > "$store/lab/SYN_USDT-1m.cbk.tmp.Old123"
touch -d '1 hour ago' "$store/lab/SYN_USDT-1m.cbk.tmp.Old123"
head -c 10 /dev/zero > "$store/lab/SYN_USDT-1m.cbk.tmp.New123"
run 0 "$bin" data list
has "comeback: removed $store/lab/SYN_USDT-1m.cbk.tmp.$dead.AbC123 (4096 bytes), a temporary file left by an interrupted write (process $dead no longer exists)"
has "comeback: removed $store/lab/SYN_USDT-1m.cbk.tmp.Old123 (10 bytes)"
[ -e "$store/lab/SYN_USDT-1m.cbk.tmp.$dead.AbC123" ] && fail "the dead writer's file is still there"
[ -e "$store/lab/SYN_USDT-1m.cbk.tmp.$live.XyZ789" ] || fail "a live writer's file was removed"
[ -e "$store/lab/SYN_USDT-1m.cbk.tmp.New123" ] || fail "a recent old-style file was removed"
run 0 "$bin" data list
hasnt "removed"
kill "$live"; wait "$live" 2>/dev/null
run 0 "$bin" data info lab:SYN/USDT:1m
has "removed $store/lab/SYN_USDT-1m.cbk.tmp.$live.XyZ789 (100 bytes)"
# A real SIGKILL mid-import: the next store command cleans up after it.
run 0 "$bin" data synth --bars 2000000 --seed 5 --out "$tmp/big.cbk"
"$bin" data import "$tmp/big.cbk" --exchange big --pair SYN/USDT --timeframe 1m >/dev/null 2>&1 &
victim=$!
for _ in $(seq 100); do ls "$store"/big/*.tmp.* >/dev/null 2>&1 && break; sleep 0.02; done
kill -9 "$victim" 2>/dev/null; wait "$victim" 2>/dev/null
if ls "$store"/big/*.tmp.* >/dev/null 2>&1; then
  run 0 "$bin" data list
  has "process $victim no longer exists"
  ls "$store"/big/*.tmp.* >/dev/null 2>&1 && fail "the killed import's temporary file is still there"
else
  echo "note: the import finished before it could be killed; the SIGKILL case was not exercised"
fi

# ---- every write checked, atomic where it replaces a file -----------------------------------
run 0 "$bin" data import "$tmp/1h.csv" --exchange wr --pair SYN/USDT --timeframe 1h
before=$(sha wr:SYN/USDT:1h)
run 0 "$bin" data synth --bars 20000 --timeframe 1h --seed 4 --out "$tmp/1h-long.csv"
out=$( (ulimit -f 200; trap '' XFSZ; "$bin" data import "$tmp/1h-long.csv" --exchange wr --pair SYN/USDT --timeframe 1h) 2>&1); rc=$?
[ $rc -eq 1 ] || fail "an import past the file size limit exited $rc: $out"
has "SYN_USDT-1h.cbk: cannot write: File too large"
[ "$(sha wr:SYN/USDT:1h)" = "$before" ] || fail "a failed write changed the stored series"
ls "$store"/wr/*.tmp.* >/dev/null 2>&1 && fail "a failed write left a temporary file"
# A device is written into, never replaced (through a link, so a regression cannot harm it).
ln -s /dev/full "$tmp/full"
run 1 "$bin" data export wr:SYN/USDT:1h --output "$tmp/full"
has "full: cannot write: No space left on device"
run 1 "$bin" data export wr:SYN/USDT:1h --format cbk --output "$tmp/full"
has "cannot write: No space left on device"
run 1 "$bin" data resample wr:SYN/USDT:1h --to 4h --out "$tmp/full"
[ -L "$tmp/full" ] || fail "the link to /dev/full was replaced"
[ -c /dev/full ] || fail "/dev/full is no longer a device"
mkfifo "$tmp/fifo"
cat "$tmp/fifo" > "$tmp/from-fifo" & reader=$!
run 0 "$bin" data export wr:SYN/USDT:1h --output "$tmp/fifo"
wait "$reader"
[ -p "$tmp/fifo" ] || fail "the FIFO was replaced by a file"
[ "$(wc -l < "$tmp/from-fifo")" -eq 402 ] || fail "FIFO got $(wc -l < "$tmp/from-fifo") lines"
# A symlink to a regular file stays a link; its target is replaced atomically.
echo old > "$tmp/target.csv"; ln -s "$tmp/target.csv" "$tmp/link.csv"
run 0 "$bin" data export wr:SYN/USDT:1h --output "$tmp/link.csv"
[ -L "$tmp/link.csv" ] || fail "the link was replaced by a file"
[ "$(wc -l < "$tmp/target.csv")" -eq 402 ] || fail "the link's target was not written"
run 1 "$bin" data export wr:SYN/USDT:1h --output "$tmp"
has "cannot write: Is a directory"

# ---- real Binance candles: resample 1m -> 1h merges with Binance's own 1h ----------------------
data=${COMEBACK_SHARED_DATA:-}/ohlcv
m1="$data/binance_spot_BTCUSDT_1m_2023-03-16_2023-05-01.csv"
h1="$data/binance_spot_BTCUSDT_1h_2023-04-01_2023-05-01.csv"
h4="$data/binance_spot_BTCUSDT_4h_2017-08-17_2022-10-11.csv"
if [ -f "$m1" ] && [ -f "$h1" ] && [ -f "$h4" ]; then
  run 0 "$bin" data import "$m1" --exchange binance --pair BTC/USDT --timeframe 1m
  run 0 "$bin" data import "$h1" --exchange binance --pair BTC/USDT --timeframe 1h
  has "719 new candles, 719 in the series"
  run 0 "$bin" data resample binance:BTC/USDT:1m --to 1h --store
  has "binance:BTC/USDT:1h: 381 new candles, 1100 in the series"
  # ... and the other way round: Binance's 1h into the resampled series.
  run 0 "$bin" data delete binance:BTC/USDT:1h
  run 0 "$bin" data resample binance:BTC/USDT:1m --to 1h --store
  has "binance:BTC/USDT:1h: 1100 new candles, 1100 in the series"
  run 0 "$bin" data import "$h1" --exchange binance --pair BTC/USDT --timeframe 1h
  has "0 new candles, 1100 in the series"
  run 1 "$bin" data import "$h4" --exchange binance4 --pair BTC/USDT --timeframe 1h
  has "the file's candles are 4h apart; --timeframe says 1h"
  run 1 "$bin" data import "$h1" --exchange binance4 --pair BTC/USDT --timeframe 4h
  has "the file's candles are 1h apart; --timeframe says 4h"
  [ "$(wc -l <<<"$out")" -eq 1 ] || fail "one sentence expected, got: $out"
  run 1 "$bin" data import "$h1" --exchange binance --pair BTC/USDT --timeframe 1m
  has "the file's candles are 1h apart; --timeframe says 1m"
else
  echo "skipped the real-data part: ../shared/data/ohlcv is absent (set COMEBACK_SHARED_DATA)"
fi

# ---- help -----------------------------------------------------------------------------------
run 0 "$bin" help data
has "data delete SERIES"
has "data rename SERIES NEW"
has "--store adds them to EX:BASE/QUOTE:TF under the rules of import"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "data_store: all passed"

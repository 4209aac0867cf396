#!/usr/bin/env bash
# Inputs that used to be accepted and give a confident wrong answer (issue 14): each is now an
# error with exit status 1 naming what is wrong and where, in every command that reads it.
# An indicator of a constant (rsi(14)), constants folding to NaN, a strategy timeframe that is
# not the data's (backtest, optimize, check, run), a window without candles or with from not
# before to, repeated keys and sections, [backtest] value errors with file:line:column, and
# rules deep enough to overflow the compiler's stack. Needs no shared data (synthetic candles).
set -u
bin=${COMEBACK_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*" >&2; exit 1; }
export COMEBACK_HOME="$tmp/home"

# expect RC WANT cmd...: the command exits RC and its stderr contains WANT (fixed string)
expect() {
  local want_rc=$1 want=$2
  shift 2
  "$@" >out.txt 2>err.txt
  local rc=$?
  [ "$rc" = "$want_rc" ] || fail "$*: exit $rc (want $want_rc): $(cat err.txt)"
  grep -qF -- "$want" err.txt || fail "$*: want '$want', got: $(cat err.txt)"
}

"$bin" data synth --bars 600 --timeframe 1h --pair BTC/USDT --start 2022-01-01 --out h1.csv \
  >/dev/null || fail "synth 1h"
"$bin" data synth --bars 300 --timeframe 1d --pair BTC/USDT --start 2021-01-01 --out d1.csv \
  >/dev/null || fail "synth 1d"
"$bin" data synth --bars 600 --timeframe 1h --pair BTC/USDT --start 2022-01-01 --store \
  >/dev/null || fail "synth --store"

strategy() { # strategy TIMEFRAME ENTRY [extra lines]
  printf '[strategy]\n'
  [ -n "$1" ] && printf 'timeframe = %s\n' "$1"
  printf 'entry = %s\nexit = close < sma(close, 5)\n' "$2"
  [ $# -ge 3 ] && printf '%b\n' "$3"
  return 0
}

# 1. an indicator of a constant, constants folding to NaN or infinity: compile errors
strategy 1h 'rsi(14) < 30' >rsi.ini
expect 1 "rsi.ini:3:13: error: 'rsi' needs a series as its first argument, but 14 is a constant; did you mean rsi(close, 14)?" \
  "$bin" rules check rsi.ini
grep -qxF '                ^~' err.txt || fail "no caret under 14: $(cat err.txt)"
expect 1 "did you mean rsi(close, 14)?" "$bin" backtest rsi.ini --data h1.csv
strategy 1h 'log(-1) < close' >log.ini
expect 1 "log.ini:3:9: error: log(-1) is not a number: the logarithm needs a number above 0" \
  "$bin" rules check log.ini
strategy 1h 'close / 0 > 1' >div.ini
expect 1 "div.ini:3:17: error: division by zero: this divisor is the constant 0" \
  "$bin" rules check div.ini
strategy 1h 'sqrt(-4) < close' >sqrt.ini
expect 1 "sqrt.ini:3:9: error: sqrt(-4) is not a number" "$bin" rules check sqrt.ini
# a parameter the optimizer sweeps to a zero divisor: that assignment is refused, not infinite
strategy 1h 'close > 1 / (k - 3)' '[params]\nk = 4 [3..5 step 1]' >divk.ini
"$bin" rules check divk.ini >/dev/null 2>&1 || fail "divk.ini with k = 4 must compile"
expect 1 "divk.ini:3:22: error: division by zero: this divisor is the constant 0 (with k = 3)" \
  "$bin" backtest divk.ini --data h1.csv --set k=3
expect 1 "divk.ini:3:22: error: division by zero: this divisor is the constant 0 (with k = 3)" \
  "$bin" optimize divk.ini --data h1.csv --quiet --luck-runs 0

# 2. the strategy's timeframe against the data's, in backtest, optimize, check and run
strategy 4h 'close > sma(close, n)' '[params]\nn = 20 [10..30 step 10]' >tf4h.ini
expect 1 "tf4h.ini:2:13: the strategy says timeframe = 4h; synth:BTC/USDT:1h has 1h candles" \
  "$bin" backtest tf4h.ini --data synth:BTC/USDT:1h
expect 1 "the strategy says timeframe = 4h; h1.csv has 1h candles" \
  "$bin" optimize tf4h.ini --data h1.csv --quiet
expect 1 "the strategy says timeframe = 4h; h1.csv has 1h candles" "$bin" check tf4h.ini h1.csv
strategy 1h 'close > sma(close, n)' '[params]\nn = 20 [10..30 step 10]' >tf1h.ini
expect 1 "tf1h.ini:2:13: the strategy says timeframe = 1h; d1.csv has 1d candles" \
  "$bin" backtest tf1h.ini --data d1.csv
"$bin" backtest tf1h.ini --data h1.csv --quiet 2>err.txt || fail "1h on 1h: $(cat err.txt)"
expect 1 "tf4h.ini:2:13: the strategy says timeframe = 4h; h1.csv has 1h candles" \
  "$bin" rules eval tf4h.ini h1.csv
[ ! -s out.txt ] || fail "rules eval printed signals for the wrong timeframe"
{ strategy 4h 'close > 1'; printf '[exchange]\nname = binance\napi_url = http://127.0.0.1:9\n'
  printf '[bot]\npairs = BTC/USDT\ntimeframe = 1h\n'; } >bot.ini
expect 1 "bot.ini:2:13: the strategy says timeframe = 4h; the robot runs on 1h candles ([bot] timeframe)" \
  "$bin" run bot.ini
# close@4h needs the strategy's own timeframe (docs/rules.md)
strategy '' 'close > close@4h' >htf.ini
expect 1 "htf.ini:2:22: error: '@4h' needs the strategy's own timeframe: set [strategy] timeframe" \
  "$bin" rules check htf.ini
# without a timeframe in the strategy, any data is accepted
strategy '' 'close > sma(close, 20)' >notf.ini
"$bin" backtest notf.ini --data d1.csv --quiet 2>err.txt || fail "no timeframe: $(cat err.txt)"

# 3. windows without candles, from not before to: backtest, optimize, check
for cmd in backtest optimize check; do
  extra=(); [ $cmd = optimize ] && extra=(--quiet)
  [ $cmd = check ] && { printf '[backtest]\nfrom = 2030-01-01\n' | cat tf1h.ini - >late.ini
    expect 1 "late.ini:8:8: from = 2030-01-01 is after the last candle of h1.csv (2022-01-25 23:00)" \
      "$bin" check late.ini h1.csv; continue; }
  expect 1 "--from 2030-01-01 is after the last candle of synth:BTC/USDT:1h (2022-01-25 23:00)" \
    "$bin" $cmd tf1h.ini --data synth:BTC/USDT:1h --from 2030-01-01 "${extra[@]}"
  expect 1 "--to 2010-01-01 is before the first candle of h1.csv (2022-01-01 00:00)" \
    "$bin" $cmd tf1h.ini --data h1.csv --to 2010-01-01 "${extra[@]}"
  expect 1 "--from 2022-01-10 is not before --to 2022-01-05: the window has no bars" \
    "$bin" $cmd tf1h.ini --data h1.csv --from 2022-01-10 --to 2022-01-05 "${extra[@]}"
  expect 1 "--from 2022-01-05 10:00 is not before --to 2022-01-05 10:00" \
    "$bin" $cmd tf1h.ini --data h1.csv --from "2022-01-05 10:00" --to "2022-01-05 10:00" \
    "${extra[@]}"
done
# one day given as from and to is that whole day
"$bin" backtest tf1h.ini --data h1.csv --from 2022-01-05 --to 2022-01-05 >out.txt 2>err.txt ||
  fail "one-day window: $(cat err.txt)"
grep -q "2022-01-05 00:00:00 .. 2022-01-05 23:00:00" out.txt || fail "one-day window: $(head -1 out.txt)"
# a window inside a gap of the data
awk -F, 'NR == 1 || $1 < 1641254400000 || $1 >= 1641513600000' h1.csv >gap.csv
expect 1 "no candle of gap.csv opens between --from 2022-01-04 and --to 2022-01-06 (a gap in the data; its candles span 2022-01-01 00:00 .. 2022-01-25 23:00)" \
  "$bin" backtest tf1h.ini --data gap.csv --from 2022-01-04 --to 2022-01-06

# 4. repeated keys and sections are refused in every section, not merged
strategy 1h 'close > 1' '[backtest]\nfee = 1%\nfee = 0%' >dupkey.ini
expect 1 "dupkey.ini:7:1: error: key 'fee' is set twice in [backtest] (first on line 6)" \
  "$bin" backtest dupkey.ini --data h1.csv
strategy 1h 'close > 1' '[backtest]\nfee = 1%\n[backtest]\nstake = 5%' >dupsec.ini
expect 1 "dupsec.ini:7:1: error: section [backtest] appears twice (first on line 5)" \
  "$bin" backtest dupsec.ini --data h1.csv
{ cat bot.ini | sed 's/^timeframe = 4h/timeframe = 1h/'; printf 'pairs = ETH/USDT\n'; } >dupbot.ini
expect 1 "dupbot.ini:11:1: error: key 'pairs' is set twice in [bot] (first on line 9)" \
  "$bin" run dupbot.ini
strategy 1h 'close > 1' '[risk]\nmax_daily_loss = 5%\n[pairs]\nBTC/USDT = tick=0.01\n[risk]\ncooldown = 1h' >duprisk.ini
expect 1 "duprisk.ini:9:1: error: section [risk] appears twice (first on line 5)" \
  "$bin" rules check duprisk.ini

# 5. [backtest] value errors name file:line:column; the command line's name the option
strategy 1h 'close > 1' '[backtest]\nstake = 5%\nfee   =  1x\nmax_open_trades = -2' >badval.ini
expect 1 "badval.ini:7:10: [backtest] fee: expected a rate such as 0.1%, 0.001 or 10bps, got '1x'" \
  "$bin" backtest badval.ini --data h1.csv
expect 1 "badval.ini:8:19: [backtest] max_open_trades: expected a whole number >= 0, got '-2'" \
  "$bin" backtest badval.ini --data h1.csv --fee 0.1%
expect 1 "comeback: --fee: expected a rate such as 0.1%, 0.001 or 10bps, got 'x'" \
  "$bin" backtest tf1h.ini --data h1.csv --fee x
strategy 1h 'close > sma(close, n)' \
  '[params]\nn = 20 [10..30 step 10]\n[backtest]\nstart_balance = lots\nto = someday' >badval2.ini
expect 1 "badval2.ini:8:17: [backtest] start_balance: expected an amount" \
  "$bin" optimize badval2.ini --data h1.csv --quiet
expect 1 "badval2.ini:9:6: [backtest] to: expected a date" \
  "$bin" backtest badval2.ini --data h1.csv --start-balance "100 USDT"

# 6. rules deep enough to overflow the compiler's stack are an error, not SIGSEGV
python3 - <<'PY' || fail "python3 needed"
def spread(body):
    out, cur = [], ""
    for i, ch in enumerate(body):
        prev = body[i - 1] if i else ""
        inside = (prev.isalnum() or prev == "_") and (ch.isalnum() or ch == "_")
        if len(cur) >= 120 and not inside and ch not in "[;#":
            out.append(cur); cur = ""
        cur += ch
    out.append(cur)
    return "\n  ".join(out)
for name, body in {"offsets": "close" + "[1]" * 4000 + " > 0",
                   "ands": "close > 0" + " and close > 1" * 3000,
                   "plus": "close" + " + 1" * 5000 + " > 0",
                   "nots": "not " * 2000 + "close > 1"}.items():
    open("deep_%s.ini" % name, "w").write("[strategy]\nentry = " + spread(body) + "\n")
PY
for k in offsets ands plus nots; do
  expect 1 "error: expression nested too deeply (more than 256 levels" "$bin" rules check "deep_$k.ini"
done
echo ok

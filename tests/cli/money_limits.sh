#!/usr/bin/env bash
# Money at the edge of fixed point (docs/backtest.md, Limits): no backtest wraps an amount.
# A value the run cannot represent refuses the order with a named reason or stops the run
# with a sentence naming the value and the limit; a spot backtest never shows a negative
# balance or a day below -100%. Hand-made markets only (no shared data needed).
set -u
bin=${COMEBACK_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
t0=1700006400000 # 2023-11-15 00:00 UTC, on the 1h grid
market() { # market FILE PRICE... : one 1h candle per price (open = high = low = close)
  local f=$1 i=0; shift
  echo "open_time_ms,open,high,low,close,volume" >"$f"
  for p in "$@"; do echo "$((t0 + i * 3600000)),$p,$p,$p,$p,10" >>"$f"; i=$((i + 1)); done
}
cat >"$tmp/always.ini" <<'INI'
[strategy]
name = always
timeframe = 1h
entry = close > 0
exit = close < 0
INI
# no number in the summary may be negative: balances, the worst day, the worst trade
no_negative() {
  ! grep -E "^(Final balance|Min balance)|Final balance|Min balance" "$1" | grep -q -- "-[0-9]" \
    || fail "$2: a negative balance: $(grep -E 'balance' "$1")"
}

# 1. 1 -> 1 -> 100,000,000 with a stake of 1000: the exit's notional (9.99e10 USDT) cannot be
# represented, so the run stops with the reason (it reported -84,482,764,496.26 USDT, rc 0).
market "$tmp/m3.csv" 1 1 100000000
"$bin" backtest "$tmp/always.ini" --data "$tmp/m3.csv" --pair SYN/USDT --stake 1000 \
  >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "1e8 market: exit $rc, $(grep Final "$tmp/out")"
grep -q "SYN/USDT: the notional of an exit 9.99e10 USDT exceeds the largest representable amount 9.22e10 USDT" "$tmp/err" \
  || fail "1e8 market: message $(cat "$tmp/err")"
grep -q "at the bar of 2023-11-15 02:00:00" "$tmp/err" || fail "1e8 market: no bar named"
! grep -q "Final balance" "$tmp/out" || fail "1e8 market: a report was printed"

# 2. a base stake as large as the balance: its cost with the fee passes the limit, so it is
# refused as insufficient balance (the wrapped check let it through and lost 92 billion)
market "$tmp/flat.csv" 1 1 1 1
"$bin" backtest "$tmp/always.ini" --data "$tmp/flat.csv" --pair SYN/USDT \
  --stake "92233720368 SYN" --start-balance "92233720368 USDT" >"$tmp/out" 2>"$tmp/err" \
  || fail "base stake: $(cat "$tmp/err")"
grep -q "Final balance  *92,233,720,368.00 USDT" "$tmp/out" || fail "base stake: $(grep Final "$tmp/out")"
grep -q "Refused entries: insufficient_balance 3" "$tmp/out" || fail "base stake: $(grep Refused "$tmp/out")"
no_negative "$tmp/out" "base stake"
# ... and the same stake without the fee fits exactly
"$bin" backtest "$tmp/always.ini" --data "$tmp/flat.csv" --pair SYN/USDT --fee 0 \
  --stake "92233720368 SYN" --start-balance "92233720368 USDT" >"$tmp/out" 2>"$tmp/err" \
  || fail "base stake, no fee: $(cat "$tmp/err")"
grep -q "^Trades  *1 " "$tmp/out" || fail "base stake, no fee: $(grep Trades "$tmp/out")"

# 3. stake = all trades at low prices like stake = 99% (it was refused below ~0.11)
market "$tmp/low.csv" 0.05 0.051 0.05 0.051 0.05 0.051 0.05 0.051
cat >"$tmp/swing.ini" <<'INI'
[strategy]
name = swing
timeframe = 1h
entry = close < 0.0505
exit = close > 0.0505
INI
for stake in all 99%; do
  "$bin" backtest "$tmp/swing.ini" --data "$tmp/low.csv" --pair SYN/USDT --stake "$stake" \
    >"$tmp/out.$stake" 2>"$tmp/err" || fail "stake $stake: $(cat "$tmp/err")"
  grep -q "^Trades  *4 " "$tmp/out.$stake" || fail "stake $stake: $(grep -E 'Trades|Refused' "$tmp/out.$stake")"
done
for p in 0.00001 0.0000003; do # 1e9 and 3.3e10 SYN: both exact
  market "$tmp/lower.csv" $p $p $p $p
  "$bin" backtest "$tmp/always.ini" --data "$tmp/lower.csv" --pair SYN/USDT --stake all \
    --fee 0 >"$tmp/out" 2>"$tmp/err" || fail "stake all at $p: $(cat "$tmp/err")"
  grep -q "^Trades  *1 " "$tmp/out" || fail "stake all at $p: $(grep -E 'Trades|Refused' "$tmp/out")"
  grep -q "Final balance  *10,000.00 USDT" "$tmp/out" || fail "stake all at $p: $(grep Final "$tmp/out")"
done
# 10,000 USDT at 1e-8 buys 1e12 SYN, beyond the largest quantity (9.2e10): a named refusal
market "$tmp/unit.csv" 0.00000001 0.00000001 0.00000001
"$bin" backtest "$tmp/always.ini" --data "$tmp/unit.csv" --pair SYN/USDT --stake all \
  >"$tmp/out" 2>"$tmp/err" || fail "1e-8: $(cat "$tmp/err")"
grep -q "Refused entries: amount_range 2" "$tmp/out" || fail "1e-8: $(grep -E 'Refused' "$tmp/out")"

# 4. a price below the 1e-8 unit is a price problem, not quantity_step
market "$tmp/tiny.csv" 0.000000001 0.000000001 0.000000001
"$bin" backtest "$tmp/always.ini" --data "$tmp/tiny.csv" --pair SYN/USDT --stake 100 \
  >"$tmp/out" 2>"$tmp/err" || fail "tiny price: $(cat "$tmp/err")"
grep -q "Refused entries: price_range 2" "$tmp/out" || fail "tiny price: $(grep Refused "$tmp/out")"

# ... and a position held into a last close below 1e-8 cannot be settled: the run says so
market "$tmp/fade.csv" 0.00000002 0.00000002 0.000000003
"$bin" backtest "$tmp/always.ini" --data "$tmp/fade.csv" --pair SYN/USDT --stake 100 \
  >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "fade: exit $rc"
grep -q "SYN/USDT: the position cannot be settled at the last close 3e-09 USDT" "$tmp/err" \
  || fail "fade: $(cat "$tmp/err")"

# 5. a random walk that drifts to near zero and back, with stake = all: every run either
# reports no negative balance and no day below -100%, or stops naming the limit
awk -v t0=$t0 'BEGIN { srand(7); p = 1; print "open_time_ms,open,high,low,close,volume";
  for (i = 0; i < 3000; i++) { d = (i < 1500 ? -0.012 : 0.012) + (rand() - 0.5) * 0.05;
    q = p * exp(d); h = (p > q ? p : q) * 1.001; l = (p < q ? p : q) * 0.999;
    printf "%.0f,%.10g,%.10g,%.10g,%.10g,10\n", t0 + i * 3600000, p, h, l, q; p = q } }' \
  >"$tmp/walk.csv"
cat >"$tmp/walk.ini" <<'INI'
[strategy]
name = walk
timeframe = 1h
entry = close > sma(close, 5)
exit = close < sma(close, 5)
INI
"$bin" backtest "$tmp/walk.ini" --data "$tmp/walk.csv" --pair SYN/USDT --stake all \
  --json "$tmp/walk.json" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ]; then
  no_negative "$tmp/out" "walk"
  grep -q '"worst_day_pct": ' "$tmp/walk.json" || fail "walk: no worst day in the JSON"
  grep -Eq '"worst_day_pct": -(1[0-9][0-9]|[2-9][0-9][0-9])' "$tmp/walk.json" && fail "walk: a day below -100%"
else
  [ $rc -eq 1 ] || fail "walk: exit $rc"
  grep -q "exceeds the largest representable amount 9.22e10 USDT" "$tmp/err" \
    || fail "walk: $(cat "$tmp/err")"
fi

# 6. settings beyond the limit are named as such
"$bin" backtest "$tmp/always.ini" --data "$tmp/flat.csv" --pair SYN/USDT \
  --start-balance "100000000000 USDT" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "huge start balance: exit $rc"
grep -q "start_balance 1e11 USDT exceeds the largest representable amount 9.22e10 USDT" \
  "$tmp/err" || fail "huge start balance: $(cat "$tmp/err")"
"$bin" backtest "$tmp/always.ini" --data "$tmp/flat.csv" --pair SYN/USDT \
  --start-balance "0 USDT" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "start-balance: must be positive, got '0 USDT'" "$tmp/err" || fail "zero start balance"
echo ok

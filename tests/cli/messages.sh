#!/usr/bin/env bash
# Messages that say something: each failure below printed a sentence that named nothing
# ("comeback: success" with exit 1, "the file is empty" for random bytes, a value cut at a NUL
# byte, "input/output error" after "No such file", "invalid symbol" without the symbol, an
# unknown command without a suggestion). Each now names what was wrong and where.
set -euo pipefail
bin=${COMEBACK_BIN:?}
fix=${COMEBACK_FIXTURES:?}
tmp=$(mktemp -d)
sim=
cleanup() {
  [ -n "$sim" ] && kill "$sim" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f err.txt ] && cat err.txt >&2; exit 1; }
cd "$tmp"
export COMEBACK_HOME="$tmp/home"
command -v python3 >/dev/null || { echo "skipped: python3 absent"; exit 77; }

# run EXPECTED_RC CMD...: runs the command, stderr in err.txt
run() {
  local want=$1
  shift
  set +e
  "$bin" "$@" >out.txt 2>err.txt
  local rc=$?
  set -e
  [ "$rc" = "$want" ] || fail "'$*': exit $rc, expected $want"
}
says() { grep -qF -- "$1" err.txt || fail "expected the message to contain: $1"; }
never() { ! grep -qiF -- "$1" err.txt || fail "the message must not contain: $1"; }

# 4 KB of (seeded) random bytes: not a text file, not "empty" nor "no time column".
python3 -c "import random; r = random.Random(14); open('rand.bin', 'wb').write(bytes(r.randrange(256) for _ in range(4096)))"
run 1 data check rand.bin
says "rand.bin:1: not a text file (byte 0x"
never "empty"
run 1 data import rand.bin --exchange x --pair A/B --timeframe 1h
says "not a text file"
# Text without any delimiter on its few lines: said as such.
python3 -c "
import random; r = random.Random(3)
ok = [b for b in range(32, 256) if b not in b',;']
open('nodelim.txt', 'wb').write(bytes(r.choice(ok) for _ in range(300)) + b'\n' + bytes(r.choice(ok) for _ in range(300)))"
run 1 data check nodelim.txt
says "no header and no candles: 2 lines without a ',', ';' or tab delimiter"
never "is empty"
# A NUL byte inside a number is shown, not a cut value ("100" for "10<NUL>0").
printf 'time,open,high,low,close,volume\n1700000000000,10\0000,12,9,11,5\n1700003600000,10\000,12,9,11,5\n' > nul.csv
run 1 data check nul.csv
grep -qF "nul.csv:2: column 'open': expected a number, got \"10\\x000\"" out.txt err.txt ||
  { cat out.txt; fail "the NUL byte of line 2 is not shown"; }
grep -qF "nul.csv:3: column 'open': expected a number, got \"10\\0\"" out.txt err.txt ||
  { cat out.txt; fail "the NUL byte of line 3 is not shown"; }

printf '[[1699999200000, 10\000, 12, 9, 11, 5]]' > nul.json
run 1 data check nul.json
grep -qF "nul.json:1:18: field 'open': expected a number, got 10\0" out.txt ||
  { cat out.txt; fail "the NUL byte in the JSON number is not shown"; }

# A missing strategy file: one line saying so, no code-only "input/output error" after it.
run 1 backtest missing.ini --data nul.csv
says "missing.ini: error: cannot open the strategy file: No such file or directory"
never "input/output error"
[ "$(wc -l < err.txt)" = 1 ] || fail "more than one line for a missing file"

# Unknown commands, subcommands and options: did you mean.
run 2 bactest
says "comeback: unknown command 'bactest' (did you mean 'backtest'?)"
run 2 exchange_smi
says "(did you mean 'exchange-sim'?)"
run 2 frobnicate
says "unknown command 'frobnicate'"
never "did you mean"
run 2 data imprt
says "unknown subcommand 'imprt' (did you mean 'import'?"
run 2 rules chek
says "unknown subcommand 'chek' (did you mean 'check'?"
run 2 backtest s.ini --josn r.json
says "unknown option '--josn' (did you mean '--json'?)"
run 2 data export nul.csv --outptu x
says "unknown option '--outptu' (did you mean '--output'?)"
run 2 optimize s.ini --walk-froward 3
says "(did you mean '--walk-forward'?)"
run 2 status --dbb x
says "(did you mean '--db'?)"

# optimize over 1e9 combinations: the reason, never "success".
"$bin" data synth --bars 300 --timeframe 1h --seed 7 --pair BTC/USDT --start 2024-01-01 \
  --start-price 40000 --out m.csv >/dev/null
cat > big.ini <<'INI'
[strategy]
name = ema-cross
timeframe = 1h
entry = crossover(ema(close, fast), ema(close, slow)) and close > x
exit = crossunder(ema(close, fast), ema(close, slow))

[params]
fast = 5 [1..1000 step 1]
slow = 20 [1..1000 step 1]
x = 1 [1..1000 step 1]

[backtest]
data = m.csv
INI
run 1 optimize big.ini
says "big.ini: a sweep of 1000000000 combinations needs"
says "sweep fewer"
never "success"

# A paper robot with a negative start balance: the reason, never "success".
sed "s/@API@/9/; s/@WS@/9/; s/^start_balance = .*/start_balance = -5 USDT/; s/^log = .*//" \
  "$fix/robot/bot.ini" > neg.ini
run 1 run neg.ini
says "[backtest] start_balance: "   # refused by the session (file:line:column) or the robot
says "must be positive"
never "success"

# A robot whose log file cannot be written says so once on the console (it used to be silent).
sed "s/@API@/9/; s/@WS@/9/; s|^log = .*|log = /dev/full|" "$fix/robot/bot.ini" > full.ini
run 1 run full.ini
says "log: cannot write the log file /dev/full: No space left on device"
[ "$(grep -c "cannot write the log file" err.txt)" = 1 ] || fail "the log warning is repeated"

# Binance's "invalid symbol" names the symbol asked for.
"$bin" exchange-sim --data BTC/USDT=m.csv --listen 127.0.0.1:0 --port-file port \
  --speed paused --quiet 2>sim.log &
sim=$!
for _ in $(seq 50); do [ "$(cat port 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
[ "$(wc -l < port)" -ge 2 ] || fail "the simulator did not start: $(cat sim.log)"
run 1 data download --exchange binance --pair ETH/USDT --timeframe 1h --from 2024-01-01 \
  --api-url "http://127.0.0.1:$(sed -n 1p port)"
says "pair ETH/USDT: GET /api/v3/klines (symbol ETHUSDT): invalid symbol"
echo ok

#!/usr/bin/env bash
# No output fails quietly: every command of src/cli/commands.def, run so that it prints to
# stdout, exits non-zero with "comeback: writing standard output: No space left on device" when
# stdout is /dev/full (the check in main() after every command). A command added to the table
# without a line here fails this test. Also: the same command with a working stdout exits 0,
# so the failure really comes from the output.
set -euo pipefail
bin=${COMEBACK_BIN:?}
src_dir=${COMEBACK_SOURCE_DIR:?}
[ -w /dev/full ] || { echo "skipped: /dev/full is absent"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp"
export COMEBACK_HOME="$tmp/home"

"$bin" data synth --bars 400 --timeframe 1h --seed 3 --pair BTC/USDT --start 2024-01-01 \
  --start-price 30000 --out m.csv >/dev/null
"$bin" data import m.csv --exchange synth --pair BTC/USDT --timeframe 1h >/dev/null
cat > s.ini <<'INI'
[strategy]
name = sma-cross
timeframe = 1h
entry = crossover(close, sma(close, period))
exit = crossunder(close, sma(close, period))

[params]
period = 10 [5..15 step 5]

[backtest]
data = m.csv
start_balance = 10000 USDT
stake = 10%
INI
# A robot journal for the robot commands: a paper robot that cannot reach its exchange
# (port 9 on loopback) creates its journal and stops; the status is set as a robot leaves it.
sed "s/@API@/9/; s/@WS@/9/; s/^log = .*//" "${COMEBACK_FIXTURES:?}/robot/bot.ini" > bot.ini
"$bin" run bot.ini >/dev/null 2>&1 || true
db=parity.paper.sqlite
[ -f "$db" ] || fail "no journal was created"
python3 -c 'import sqlite3' 2>/dev/null || { echo "skipped: python3 sqlite3 absent"; exit 77; }
python3 - "$db" <<'PY' || fail "could not put a status and a fill into the journal"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT OR REPLACE INTO kv(key, value) VALUES('robot.status', ?)",
          ('{"bot":"parity","mode":"paper","state":"stopped","cash":"10000","equity":"10000",'
           '"quote":"USDT","positions":[]}',))
# a fill belongs to a journaled order (the journal refuses an orphan fill when it opens)
c.execute("INSERT INTO orders(seq, client_order_id, pair, side, type, reason, status,"
          " price_scale, qty_scale, price, stop_price, quantity, executed_quantity, created_ms,"
          " updated_ms, adopted) SELECT COALESCE(MAX(seq), 0) + 1000000000, 'cb-parity-1',"
          " 'BTC/USDT', 'buy', 'market', 'entry', 'filled', 2, 5, 0, 0, 100000, 100000,"
          " 1704067200000, 1704067200000, 1 FROM orders")
c.execute("INSERT INTO fills(pair, trade_id, client_order_id, side, price_scale, qty_scale,"
          " fee_scale, price, quantity, fee, fee_asset, time_ms) VALUES('BTC/USDT','t1',"
          "'cb-parity-1','buy',2,5,8,3000000,100000,0,'USDT',1704067200000)")
c.commit()
PY

# One invocation per command that prints on stdout. Daemons (exchange-sim, run), reconcile
# (it needs a live exchange) and forceentry/forceexit (they need a running robot) print their
# help: the same check in main() covers them.
declare -A how=(
  [help]="help"
  [demo]="demo --bars 3000"
  [data]="data list"
  [ta]="ta m.csv --indicator sma:10"
  [exchange_sim]="exchange-sim --help"
  [backtest]="backtest s.ini"
  [optimize]="optimize s.ini --luck-runs 0"
  [check]="check s.ini --cuts 2"
  [rules]="rules eval s.ini m.csv"
  [run]="run --help"
  [status]="status --db $db"
  [orders]="orders --db $db"
  [trades]="trades --db $db"
  [pause]="pause --db $db"
  [resume]="resume --db $db"
  [stop]="stop --db $db"
  [forceexit]="forceexit --help"
  [forceentry]="forceentry --help"
  [reconcile]="reconcile --help"
)
# more cases of the commands with subcommands and large outputs
extra=("data info m.csv" "data check m.csv" "data export m.csv" "rules check s.ini"
       "backtest s.ini --equity" "trades --db $db --json" "status --db $db --json" "--version")

names=$(sed -n 's/^CB_CMD(\([a-z_]*\),.*/\1/p' "$src_dir/src/cli/commands.def")
[ "$(echo "$names" | wc -l)" -ge 18 ] || fail "cannot read the command table"
cases=()
for n in $names; do
  [ -n "${how[$n]:-}" ] || fail "command '$n' has no case in tests/cli/output.sh"
  cases+=("${how[$n]}")
done
cases+=("${extra[@]}")

for c in "${cases[@]}"; do
  # shellcheck disable=SC2086
  set +e
  "$bin" $c >out.txt 2>err.txt; ok=$?
  "$bin" $c >/dev/full 2>err.txt; rc=$?
  set -e
  [ "$ok" = 0 ] || { cat err.txt; fail "'$c' fails even with a working stdout ($ok)"; }
  [ -s out.txt ] || fail "'$c' printed nothing on stdout: not a test of its output"
  [ "$rc" = 1 ] || fail "'$c' > /dev/full exited $rc, not 1"
  grep -q "^comeback: writing standard output: No space left on device$" err.txt ||
    { cat err.txt; fail "'$c' > /dev/full: no message naming the reason"; }
  [ "$(wc -l < err.txt)" = 1 ] || { cat err.txt; fail "'$c' > /dev/full: more than the one line"; }
done
echo "ok: ${#cases[@]} command lines fail on a full stdout"

# A closed stdout is a failure too (EBADF), not a silent success.
set +e
"$bin" backtest s.ini >&- 2>err.txt; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "writing standard output: Bad file descriptor" err.txt ||
  { cat err.txt; fail "closed stdout: exit $rc"; }
echo ok

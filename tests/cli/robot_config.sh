#!/usr/bin/env bash
# `comeback run` refuses malformed bot files with file:line, the section and the key; bad
# command lines exit 2; live mode is refused without confirmation; the control commands need a
# journal.
set -euo pipefail
BIN=${COMEBACK_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }

base() { cat <<'INI'
[strategy]
name = t
timeframe = 1h
entry = close > 1
exit = close < 1

[exchange]
name = binance
api_url = http://127.0.0.1:9

[bot]
pairs = BTC/USDT
INI
}
# expect_err "extra lines" "expected message"
n=0
expect_err() {
  n=$((n + 1))
  { base; printf '%b\n' "$1"; } > "b$n.ini"
  set +e
  "$BIN" run "b$n.ini" < /dev/null > out.txt 2> err.txt
  rc=$?
  set -e
  [ $rc = 1 ] || fail "case $n: exit status $rc (want 1): $(cat err.txt)"
  grep -qF -- "$2" err.txt || fail "case $n: want '$2', got: $(cat err.txt)"
}
expect_err "mode = demo" "b1.ini:13:8: [bot] mode: expected paper or live, got 'demo'"
expect_err "colour = blue" "b2.ini:13:1: [bot] colour: unknown key"
expect_err "name = has space" "b3.ini:13:8: [bot] name: expected 1 to 20 letters"
expect_err "timeframe = 7x" "b4.ini:13:13: [bot] timeframe: expected a timeframe"
expect_err "history = -3" "b5.ini:13:11: [bot] history: expected a number of candles"
expect_err "[risk]\nmax_drawdown = lots" "b6.ini:14:16: [risk] max_drawdown:"
expect_err "[risk]\nleverage = 10" "b7.ini:14:1: [risk] leverage: unknown key"
# a bad pair list replaces the base's pairs line
{ base | sed 's#^pairs = .*#pairs = BTCUSDT#'; } > p.ini
set +e; "$BIN" run p.ini 2> err.txt; rc=$?; set -e
[ $rc = 1 ] && grep -qF "p.ini:12:9: [bot] pairs: expected pairs such as BTC/USDT, got 'BTCUSDT'" err.txt ||
  fail "pairs: $rc $(cat err.txt)"
{ base | sed 's#^name = binance#name = kraken#'; } > x.ini
set +e; "$BIN" run x.ini 2> err.txt; rc=$?; set -e
[ $rc = 1 ] && grep -qF "x.ini:8:8: [exchange] name: the only exchange is binance, got 'kraken'" err.txt ||
  fail "exchange: $rc $(cat err.txt)"
{ base | sed '/^pairs/d'; } > np.ini
set +e; "$BIN" run np.ini 2> err.txt; rc=$?; set -e
[ $rc = 1 ] && grep -qF "np.ini:11: [bot] pairs: missing" err.txt || fail "no pairs: $(cat err.txt)"

# the command line
base > ok.ini
set +e
"$BIN" run ok.ini --mode demo 2> err.txt; rc=$?
[ $rc = 2 ] && grep -q "expected paper or live" err.txt || { set -e; fail "--mode: $rc"; }
"$BIN" run ok.ini --dry-run-balance lots 2> err.txt; rc=$?
[ $rc = 2 ] && grep -q "dry-run-balance" err.txt || { set -e; fail "--dry-run-balance: $rc"; }
"$BIN" run 2> err.txt; rc=$?
[ $rc = 2 ] || { set -e; fail "no BOT.ini: $rc"; }
# live mode: refused without a terminal or --yes; with --yes, refused without API keys
"$BIN" run ok.ini --mode live < /dev/null 2> err.txt; rc=$?
[ $rc = 1 ] && grep -q "confirm on a terminal or pass --yes" err.txt || { set -e; fail "live: $rc $(cat err.txt)"; }
env -u COMEBACK_API_KEY -u COMEBACK_API_SECRET "$BIN" run ok.ini --mode live --yes < /dev/null 2> err.txt; rc=$?
[ $rc = 1 ] && grep -q "live trading needs API keys" err.txt || { set -e; fail "live --yes: $rc $(cat err.txt)"; }
# paper and live never share a database (the paper run fails later: nothing listens there)
{ base; echo "db = shared.sqlite"; } > shared.ini
"$BIN" run shared.ini 2> err.txt; rc=$?
[ $rc = 1 ] && [ -e shared.sqlite ] || { set -e; fail "paper on shared.sqlite: $rc $(cat err.txt)"; }
"$BIN" run shared.ini --mode live --yes < /dev/null 2> err.txt; rc=$?
[ $rc = 1 ] && grep -q "belongs to a paper robot; paper and live never share" err.txt ||
  { set -e; fail "shared database: $rc $(cat err.txt)"; }
# a robot that failed at start (nothing listens at its api_url) says so, and is not running
"$BIN" status --db shared.sqlite > out.txt 2> err.txt; rc=$?
[ $rc = 0 ] && grep -q "^state      failed (not running, last heartbeat" out.txt ||
  { set -e; fail "status of a robot that failed at start: $rc $(cat out.txt err.txt)"; }
"$BIN" forceexit BTC/USDT --db shared.sqlite 2> err.txt; rc=$?
[ $rc = 1 ] && grep -q "no robot is running on this database" err.txt ||
  { set -e; fail "forceexit with no robot running: $rc $(cat err.txt)"; }
# the control commands need a journal
mkdir empty
(cd empty && "$BIN" status) 2> err.txt; rc=$?
[ $rc = 2 ] && grep -q "name the robot's database" err.txt || { set -e; fail "status: $rc"; }
"$BIN" status --db nowhere.sqlite 2> err.txt; rc=$?
[ $rc = 1 ] && grep -q "not a robot journal" err.txt || { set -e; fail "status nowhere: $rc $(cat err.txt)"; }
[ ! -e nowhere.sqlite ] || { set -e; fail "status created a database"; }
"$BIN" forceexit --db x.sqlite 2> err.txt; rc=$?
[ $rc = 2 ] && grep -q "missing PAIR" err.txt || { set -e; fail "forceexit without a pair: $rc"; }
set -e
echo ok

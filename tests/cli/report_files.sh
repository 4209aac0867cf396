#!/usr/bin/env bash
# Report files are replaced atomically: a write that fails (a full disk, a read-only file
# system, /dev/full) exits 1 with the reason and leaves the previous report byte for byte,
# with no temporary file behind. Covers backtest --json/--trades/--html, optimize --json/--html,
# ta --output and data export --output (each goes through cb_file_atomic_*).
# The full disk is a 64 KiB tmpfs and the read-only directory a read-only tmpfs: both need
# mount(2) (root); without it those parts are skipped with a message, the rest still runs.
set -euo pipefail
bin=${COMEBACK_BIN:?}
tmp=$(mktemp -d)
mnt=$tmp/small
mounted=
cleanup() {
  [ -n "$mounted" ] && umount "$mnt" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp"
export COMEBACK_HOME="$tmp/home"

"$bin" data synth --bars 1500 --timeframe 1h --seed 5 --pair BTC/USDT --start 2024-01-01 \
  --start-price 30000 --out m.csv >/dev/null
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

# The writers of user-named files, as FLAG FILE pairs after a command.
writers=(
  "backtest s.ini --quiet --json"
  "backtest s.ini --quiet --trades"
  "backtest s.ini --quiet --html"
  "optimize s.ini --luck-runs 0 --quiet --json"
  "optimize s.ini --luck-runs 0 --quiet --html"
  "ta m.csv --indicator sma:10 --output"
  "data export m.csv --output"
)

# expect_refused DIR REASON: every writer into DIR/report fails with the reason, and the
# previous DIR/report (copied to ./before) stays as it was.
expect_refused() {
  local dir=$1 reason=$2 w
  for w in "${writers[@]}"; do
    set +e
    # shellcheck disable=SC2086
    "$bin" $w "$dir/report" >/dev/null 2>err.txt; rc=$?
    set -e
    [ "$rc" = 1 ] || { cat err.txt; fail "'$w' into $dir: exit $rc, not 1"; }
    grep -q "$reason" err.txt || { cat err.txt; fail "'$w' into $dir: the reason is not given"; }
    cmp -s before "$dir/report" || fail "'$w' into $dir: the previous report was changed"
    if ls -a "$dir" | grep -q '\.tmp\.'; then
      ls -la "$dir"; fail "'$w' into $dir: a temporary file was left behind"
    fi
  done
}

# 1. /dev/full as the report file (a device: written in place, the failure caught at flush).
for w in "${writers[@]}"; do
  set +e
  # shellcheck disable=SC2086
  "$bin" $w /dev/full >/dev/null 2>err.txt; rc=$?
  set -e
  [ "$rc" = 1 ] && grep -q "/dev/full: .*No space left on device" err.txt ||
    { cat err.txt; fail "'$w' /dev/full: exit $rc"; }
done
echo "ok: /dev/full"

# 2. A missing directory: a sentence naming it, nothing created.
set +e
"$bin" backtest s.ini --quiet --json nodir/r.json 2>err.txt; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "nodir/r.json: cannot create a file in nodir: No such file or directory" \
  err.txt || { cat err.txt; fail "missing directory: exit $rc"; }

# 3. Success replaces the file whole, keeps its permissions, follows a symbolic link.
printf 'old\n' > r.json
chmod 640 r.json
ln -s r.json link.json
"$bin" backtest s.ini --quiet --json link.json
[ -L link.json ] || fail "the symbolic link was replaced by a file"
grep -q '"final_balance"' r.json || fail "the report was not written through the link"
[ "$(stat -c %a r.json)" = 640 ] || fail "the report lost its mode ($(stat -c %a r.json))"
if ls -a | grep -q '\.tmp\.'; then fail "a temporary file was left behind"; fi
echo "ok: replace, mode, link"

# "-" is standard output.
"$bin" backtest s.ini --quiet --json - > out.json
grep -q '"final_balance"' out.json && tail -c 3 out.json | grep -q '}' ||
  fail "--json - did not print the JSON"
[ ! -e ./- ] || fail "--json - created a file named '-'"

# No writer may replace a device by renaming over it (as root, /dev/full itself).
[ -c /dev/full ] || fail "/dev/full is no longer a device"

# 4. A full disk and a read-only directory (tmpfs; needs root).
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=64k tmpfs "$mnt" 2>/dev/null; then
  echo "skipped: cannot mount a small tmpfs (not root?): full-disk and read-only cases"
  exit 0
fi
mounted=1
# The previous report, then a filler up to the last block: the disk is full.
printf 'the previous report\n' > "$mnt/report"
cp "$mnt/report" before
dd if=/dev/zero of="$mnt/filler" bs=1k count=1024 2>/dev/null || true
expect_refused "$mnt" "No space left on device"
echo "ok: a full disk leaves every previous report intact"
rm -f "$mnt/filler"
mount -o remount,ro "$mnt"
expect_refused "$mnt" "Read-only file system"
echo "ok: a read-only directory"

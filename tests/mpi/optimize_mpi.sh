#!/usr/bin/env bash
# mpirun -np 2 comeback optimize gives exactly the single-process report (same JSON bytes).
# Runs only in the -DCOMEBACK_MPI=ON build (make mpi-test). MPI stays on this machine:
# shared memory between the ranks, loopback for their start-up.
set -euo pipefail
bin=${COMEBACK_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "skipped: mpirun absent (scripts/bootstrap installs it)"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: python3 absent"; exit 77; }
python3 - "$tmp/m.csv" <<'PY'
import math, random, sys
rnd = random.Random(2)
p, t = 100.0, 1577836800000
with open(sys.argv[1], "w") as f:
    f.write("time_ms,open,high,low,close,volume\n")
    for i in range(3000):
        c = p * math.exp(rnd.gauss(0, 0.01))
        f.write(f"{t + i * 3600000},{p:.4f},{max(p, c) * 1.002:.4f},{min(p, c) * 0.998:.4f},{c:.4f},10\n")
        p = float(f"{c:.4f}")
PY
cat > "$tmp/s.ini" <<'INI'
[strategy]
name = ema-cross
timeframe = 1h
entry = crossover(ema(close, fast), ema(close, slow))
exit = crossunder(ema(close, fast), ema(close, slow))
[params]
fast = 5 [3..11 step 2]
slow = 20 [15..33 step 6]
[backtest]
data = m.csv
pair = SYN/USDT
stake = 25%
INI
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
  OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_plm=isolated \
  OMPI_MCA_rmaps_base_oversubscribe=1
"$bin" optimize "$tmp/s.ini" --jobs 1 --luck-runs 50 --json "$tmp/one.json" --quiet >/dev/null
mpirun --oversubscribe -np 2 "$bin" optimize "$tmp/s.ini" --jobs 1 --luck-runs 50 \
  --json "$tmp/two.json" --quiet > "$tmp/out" 2>&1 || { cat "$tmp/out"; fail "mpirun failed"; }
cmp -s "$tmp/one.json" "$tmp/two.json" || { diff "$tmp/one.json" "$tmp/two.json" | head; fail "reports differ"; }
[ "$(grep -c '^Verdict: ' "$tmp/out")" = 1 ] || fail "expected one verdict line (rank 0 only): $(cat "$tmp/out")"

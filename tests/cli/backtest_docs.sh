#!/usr/bin/env bash
# docs/metrics.md shows the metrics table exactly as the program has it, and docs/backtest.md
# exists with every option that `comeback help backtest` lists.
set -euo pipefail
bin=${COMEBACK_BIN:?}
src=${COMEBACK_SOURCE_DIR:?}
doc=$(sed -n '/<!-- metrics-table/,/<!-- \/metrics-table/p' "$src/docs/metrics.md" | sed '1d;$d')
prog=$("$bin" backtest --list-metrics)
if [ "$doc" != "$prog" ]; then
  diff <(echo "$doc") <(echo "$prog") || true
  echo "FAIL: docs/metrics.md is out of date (regenerate with comeback backtest --list-metrics)"
  exit 1
fi
for opt in $("$bin" help backtest | grep -o -- '--[a-z-]*' | sort -u); do
  grep -q -- "$opt" "$src/docs/backtest.md" || { echo "FAIL: docs/backtest.md lacks $opt"; exit 1; }
done
echo ok

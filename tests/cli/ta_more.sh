#!/usr/bin/env bash
# `comeback ta` with the indicators that need more than prices: vwap_session gets each bar's
# open time (input "time") and resets at 00:00 UTC; multi-output extras get one column each.
# Fixture: tests/fixtures/ta/session.csv, 4 hourly bars from 2022-01-01 22:00 UTC (a new UTC
# day starts at the third bar, which has no volume). Expected values worked out by hand:
# typical prices 10.1667, 11.1667, 11.8333, 12.1; session VWAP = sum(tp*v)/sum(v) since the
# day began, or the mean typical price while the session has no volume.
set -u
bin=${COMEBACK_BIN:?}
fix=${COMEBACK_FIXTURES:?}/ta
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" ta "$fix/session.csv" --indicator vwap_session --indicator vwap:2 \
  --indicator donchian:2 >"$tmp/out.csv" || fail "ta on session.csv failed"
cat >"$tmp/want.csv" <<'CSV'
time_ms,vwap_session,vwap:2,donchian:2.upper,donchian:2.middle,donchian:2.lower
1641074400000,10.166666666666666,,,,
1641078000000,10.766666666666666,10.766666666666666,12,10.5,9
1641081600000,11.833333333333334,11.166666666666666,12.5,11.25,10
1641085200000,12.1,12.1,13,12,11
CSV
diff -u "$tmp/want.csv" "$tmp/out.csv" || fail "session.csv output differs"

# ichimoku has no chikou output (it would need future bars).
"$bin" ta "$fix/session.csv" --indicator ichimoku:1:2:2:1 | head -1 >"$tmp/head"
grep -q chikou "$tmp/head" && fail "ichimoku must not output a chikou span"
grep -q "ichimoku:1:2:2:1.senkou_b" "$tmp/head" || fail "ichimoku columns missing"
echo ok

#!/usr/bin/env bash
# The HTML backtest report renders in a real browser: headless Chromium (Debian's chromium
# package, installed by scripts/bootstrap) takes a screenshot with the network disabled, and the
# image must show the charts (not a blank page). Skipped, with a message, without chromium.
set -euo pipefail
bin=${COMEBACK_BIN:?}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then echo "skipped: chromium is not installed (scripts/bootstrap installs it)"; exit 77; fi
command -v python3 >/dev/null || { echo "skipped: python3 absent"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
COMEBACK_HOME="$tmp/home" "$bin" demo --bars 20000 >/dev/null
html="$tmp/home/demo/report.html"
[ -s "$html" ] || { echo "FAIL: no report"; exit 1; }
# no network: a self-contained page needs none (proxy to nowhere makes any fetch fail)
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --proxy-server=127.0.0.1:9 --window-size=1100,2400 --user-data-dir="$tmp/profile" \
  --screenshot="$tmp/shot.png" "file://$html" >"$tmp/chromium.log" 2>&1 || true
[ -s "$tmp/shot.png" ] || { cat "$tmp/chromium.log"; echo "FAIL: no screenshot"; exit 1; }
python3 - "$tmp/shot.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h = 8, b"", 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
# crude but enough: how much of the image is not white (filters aside)
nonwhite = sum(1 for b in raw[::7] if b < 200) / (len(raw) / 7)
print(f"screenshot {w}x{h}, {nonwhite:.1%} non-white samples")
assert w >= 1000 and h >= 1000, "unexpected size"
assert nonwhite > 0.02, "the page looks blank"
PY
cp "$tmp/shot.png" "${COMEBACK_SCREENSHOT_OUT:-/dev/null}" 2>/dev/null || true
echo ok

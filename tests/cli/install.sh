#!/usr/bin/env bash
# `make install` into a DESTDIR (prefix /usr), then the installed program alone, with the
# source and build trees out of reach (hidden under an empty tmpfs in a private mount
# namespace when `unshare -rm` works; otherwise from an empty directory with a clean
# environment):
#  1. what is installed: the program, the plug-in header, docs, examples, the systemd unit
#     (its ExecStart, restart policy and sandbox; `systemd-analyze verify` when available)
#     and the sysusers.d entry;
#  2. `comeback help` and `comeback demo` run from the install;
#  3. the installed plug-in example builds against the installed header (its Makefile finds
#     the prefix of the `comeback` on the PATH) and loads;
#  4. the installed service bot file (examples/service/mybot.ini, paths and URLs pointed at a
#     temporary state directory and a simulator) runs in paper mode and stops cleanly; with
#     user namespaces, as under the unit's ProtectSystem=strict: every file read-only except
#     its state directory.
set -euo pipefail
BIN=${COMEBACK_BIN:?}
SRC=${COMEBACK_SOURCE_DIR:?}
build=$(cd "$(dirname "$BIN")" && pwd)
command -v cmake >/dev/null || { echo "skip: cmake is not installed"; exit 77; }
tmp=$(mktemp -d)
cleanup() { [ -n "${KEEP:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

R=$tmp/root
DESTDIR="$R" cmake --install "$build" --prefix /usr > "$tmp/install.log" ||
  { cat "$tmp/install.log"; fail "cmake --install"; }

# 1. the files
for f in bin/comeback include/comeback/strategy.h share/doc/comeback/README.md \
         share/doc/comeback/BENCHMARKS.md share/doc/comeback/docs/run.md \
         share/doc/comeback/docs/exchange-sim.md \
         share/doc/comeback/examples/strategies/ema_cross_rsi.ini \
         share/doc/comeback/examples/plugins/ema_cross/Makefile \
         share/doc/comeback/examples/plugins/ema_cross/ema_cross.c \
         share/doc/comeback/examples/service/mybot.ini \
         lib/systemd/system/comeback@.service lib/sysusers.d/comeback.conf; do
  [ -f "$R/usr/$f" ] || fail "not installed: /usr/$f"
done
[ -x "$R/usr/bin/comeback" ] || fail "/usr/bin/comeback is not executable"
[ ! -e "$R/usr/share/doc/comeback/examples/plugins/CMakeLists.txt" ] ||
  fail "the in-tree CMakeLists.txt of the plug-ins was installed"
unit=$R/usr/lib/systemd/system/comeback@.service
for line in 'ExecStart=/usr/bin/comeback run /etc/comeback/%i.ini --yes' \
            Restart=on-failure RestartPreventExitStatus=2 KillSignal=SIGTERM \
            User=comeback Group=comeback StateDirectory=comeback/%i \
            WorkingDirectory=/var/lib/comeback/%i NoNewPrivileges=yes ProtectSystem=strict \
            ProtectHome=yes PrivateTmp=yes 'CapabilityBoundingSet='; do
  grep -qxF "$line" "$unit" || fail "the unit lacks '$line'"
done
! grep -q '^ReadWritePaths' "$unit" || fail "the unit opens more than its state directory"
! grep -q '@[A-Z]*@' "$unit" || fail "an unreplaced @VARIABLE@ in the unit"
grep -qx 'u comeback - "Comeback trading robot" /var/lib/comeback' \
  "$R/usr/lib/sysusers.d/comeback.conf" || fail "sysusers.d entry"
if command -v systemd-analyze >/dev/null; then
  # An instance of the template, its ExecStart pointed at the staged program (verify checks
  # that the command exists on this machine).
  mkdir -p "$tmp/units"
  sed "s|^ExecStart=/usr/bin/comeback|ExecStart=$R/usr/bin/comeback|" "$unit" \
    > "$tmp/units/comeback@mybot.service"
  systemd-analyze verify "$tmp/units/comeback@mybot.service" > "$tmp/verify.log" 2>&1 ||
    { cat "$tmp/verify.log"; fail "systemd-analyze verify"; }
  [ ! -s "$tmp/verify.log" ] || { cat "$tmp/verify.log"; fail "systemd-analyze warnings"; }
  # the sandbox's exposure score (0 = locked down, 10 = none): "OK" is below 2
  systemd-analyze security --offline=yes --threshold=20 "$tmp/units/comeback@mybot.service" \
    > "$tmp/security.log" 2>&1 || { tail -3 "$tmp/security.log"; fail "exposure above 2.0"; }
  echo "systemd: $(grep -o 'Overall exposure level.*' "$tmp/security.log")"
else
  echo "note: systemd-analyze is not installed, the unit was not verified"
fi

# 2-4 run by the installed program alone
cat > "$tmp/inner.sh" <<'EOF'
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }
cd "$T/work"
comeback help > help.txt 2>&1 || fail "comeback help: $(cat help.txt)"
grep -q "demo" help.txt || fail "comeback help lists no demo"
grep -qF "Documentation: $R/usr/share/doc/comeback/docs (" help.txt ||
  fail "comeback help does not point at the installed docs: $(grep Documentation help.txt)"
comeback demo --bars 3000 > demo.txt 2>&1 || { tail -20 demo.txt; fail "comeback demo"; }
[ -s "$COMEBACK_HOME/demo/report.html" ] || fail "the demo wrote no report"
grep -q "SYNTHETIC" demo.txt || fail "the demo output"

cp -r "$R/usr/share/doc/comeback/examples/plugins/ema_cross" plug
if command -v cc >/dev/null && command -v make >/dev/null; then
  make -s -C plug > plug.log 2>&1 || { cat plug.log; fail "the installed plug-in example"; }
  comeback rules check plug/ema_cross_plugin.ini > check.txt 2>&1 ||
    { cat check.txt; fail "the plug-in built from the install does not load"; }
  grep -q "ABI version 1" check.txt || { cat check.txt; fail "rules check"; }
fi

comeback data synth --bars 700 --timeframe 1h --seed 3 --pair BTC/USDT --start 2024-01-01 \
  --start-price 40000 --out btc.csv > /dev/null
comeback exchange-sim --data BTC/USDT=btc.csv --listen 127.0.0.1:0 --port-file port \
  --speed paused --start 2024-01-20 --quiet 2> sim.log &
sim=$!
trap 'kill $sim 2>/dev/null || true; [ -n "${bot:-}" ] && kill -9 $bot 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ "$(cat port 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
[ "$(wc -l < port)" -ge 2 ] || fail "the installed simulator did not start: $(cat sim.log)"
mkdir -p state etc
sed -e "s|^api_url = .*|api_url = http://127.0.0.1:$(sed -n 1p port)|" \
    -e "s|^ws_url = .*|ws_url = ws://127.0.0.1:$(sed -n 2p port)|" \
    -e "s|/var/lib/comeback/mybot/|$T/work/state/|" \
    "$R/usr/share/doc/comeback/examples/service/mybot.ini" > etc/mybot.ini
if [ -n "$SANDBOX" ]; then
  # As the unit's ProtectSystem=strict + StateDirectory: the whole file system read-only but
  # the state directory (the working directory), so the robot may write nowhere else.
  unshare -m bash -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro / &&
    ! touch "$2/probe" 2>/dev/null && cd "$1" && exec comeback run "$2/mybot.ini"' \
    _ "$T/work/state" "$T/work/etc" > run.out 2> run.err &
else
  (cd state && exec comeback run ../etc/mybot.ini) > run.out 2> run.err &
fi
bot=$!
db=state/mybot.paper.sqlite
for _ in $(seq 100); do
  grep -q '"event":"history"' state/mybot.log.jsonl 2>/dev/null && break
  kill -0 $bot 2>/dev/null || { cat run.err; fail "the service's bot file did not run"; }
  sleep 0.1
done
grep -q '"event":"history"' state/mybot.log.jsonl || { cat run.err; fail "no history loaded"; }
comeback status --db "$db" > status.txt || { cat status.txt; fail "status"; }
comeback stop --db "$db" > /dev/null
for _ in $(seq 100); do kill -0 $bot 2>/dev/null || break; sleep 0.1; done
set +e; wait $bot; rc=$?; set -e
bot=
[ $rc -eq 0 ] || { cat run.err; fail "the robot stopped with $rc"; }
echo "installed program: help, demo, plug-in and the service's bot file all ran" \
  "${SANDBOX:+(the robot with everything read-only but its state directory)}"
EOF
mkdir -p "$tmp/work" "$tmp/home"
run_inner() {
  env -i PATH="$R/usr/bin:/usr/bin:/bin" HOME="$tmp/home" COMEBACK_HOME="$tmp/home" \
      ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
      T="$tmp" R="$R" HIDE="$1" SANDBOX="$1" bash -c '
    if [ -n "$HIDE" ]; then
      for d in $HIDE; do mount -t tmpfs -o size=1m,mode=0555 tmpfs "$d"; done
    fi
    exec bash "$T/inner.sh"'
}
hide="$SRC"
case "$build" in "$SRC"/*) ;; *) hide="$hide $build" ;; esac
if unshare -rm true 2>/dev/null; then
  env -i PATH="/usr/bin:/bin" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" unshare -rm bash -c "$(declare -f run_inner); \
    R='$R' tmp='$tmp' run_inner '$hide'" || exit 1
  # the trees really were out of reach in there
  unshare -rm bash -c "mount -t tmpfs tmpfs '$SRC' && [ ! -e '$SRC/CMakeLists.txt' ]" ||
    fail "could not hide the source tree"
  echo "ran with $hide hidden"
else
  echo "note: no user namespaces here: run from an empty directory with a clean environment"
  run_inner ""
fi

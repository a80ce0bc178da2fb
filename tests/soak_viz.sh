#!/usr/bin/env bash
# soak_viz.sh: a real `ddpm viz` window under Xvfb with live training, driven
# by a script that works the controls (eta, steps, schedule, spacing, sampler,
# seed, views, decomposition, playback, mouse drags on the sliders) for a
# given time.  Passes when the window never crashes, its resident memory is
# flat after warm-up, and no frame took longer than 250 ms.
#   bash tests/soak_viz.sh build/ddpm 600      # the 10-minute soak
#   (CTest runs the 40-second version: tests/test_ui_soak.sh)
# Exit 77 = skipped (no Xvfb or xdotool).
set -u
DDPM=$1
SECONDS_TOTAL=${2:-600}
MAX_FRAME_MS=${MAX_FRAME_MS:-250}
fail() { echo "FAIL: $*" >&2; exit 1; }
"$DDPM" viz --help >/dev/null 2>&1 || { echo "SKIP: no visualizer in this build"; exit 77; }
command -v xvfb-run >/dev/null 2>&1 || { echo "SKIP: xvfb-run is not installed"; exit 77; }
command -v xdotool >/dev/null 2>&1 || { echo "SKIP: xdotool is not installed"; exit 77; }
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$(cd "$(dirname "$0")" && pwd)/tsan_mesa.supp"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/drive.sh" <<'EOS'
set -u
DDPM=$1; OUT=$2; DUR=$3
SDL_VIDEODRIVER=x11 "$DDPM" viz --size 1280x720 --fps --quit-after "$DUR" --train-seconds "$DUR" \
    --export-dir "$OUT/export" >"$OUT/log.txt" 2>&1 &
pid=$!
wid=""
for _ in $(seq 200); do
  wid=$(xdotool search --name '^ddpm viz$' 2>/dev/null | head -n 1)
  [ -n "$wid" ] && break
  sleep 0.1
done
[ -n "$wid" ] || { echo "no window appeared"; kill "$pid"; exit 3; }
xdotool windowfocus --sync "$wid" 2>/dev/null || true
keys=(e e c k x r g g m m d d bracketleft bracketright bracketright Left Right space space \
      Up Down minus equal v s k c r Home End)
start=$(date +%s)
: > "$OUT/rss.txt"
i=0
while kill -0 "$pid" 2>/dev/null; do
  now=$(date +%s)
  [ $((now - start)) -ge $((DUR + 30)) ] && break
  k=${keys[$((RANDOM % ${#keys[@]}))]}
  xdotool key --clearmodifiers "$k" 2>/dev/null
  if [ $((i % 5)) -eq 0 ]; then   # drag across the sidebar's sliders
    y=$((200 + RANDOM % 420)); x0=$((30 + RANDOM % 240)); x1=$((30 + RANDOM % 240))
    xdotool mousemove --window "$wid" $x0 $y mousedown 1 mousemove --window "$wid" $x1 $y mouseup 1 2>/dev/null
  fi
  if [ $((i % 10)) -eq 0 ]; then
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    [ -n "$rss" ] && echo "$((now - start)) $rss" >> "$OUT/rss.txt"
  fi
  i=$((i + 1))
  sleep 0.2
done
wait "$pid"
echo "exit=$?"
EOS
res=$(xvfb-run -a -s "-screen 0 1600x1000x24" bash "$tmp/drive.sh" "$DDPM" "$tmp" "$SECONDS_TOTAL" 2>&1)
echo "$res" | tail -n 3
grep "ddpm viz:" "$tmp/log.txt" | tail -n 3
echo "$res" | grep -q "exit=0" || { tail -n 30 "$tmp/log.txt"; fail "the window did not exit cleanly"; }

# memory: flat after a warm-up of a quarter of the run.  What the window holds
# depends on the settings of the moment (a 1000-step grid's trajectory alone
# is 100 MB), so each window's floor is compared: the least RSS of the second
# quarter against the least of the last quarter.  A leak raises the floor.
q=$((SECONDS_TOTAL / 4))
floor_of() { awk -v a="$1" -v b="$2" '$1 >= a && $1 < b { if (m == "" || $2 < m) m = $2 } END { print m }' "$tmp/rss.txt"; }
first=$(floor_of "$q" $((2 * q)))
last=$(floor_of $((3 * q)) 1000000000)
[ -n "$first" ] && [ -n "$last" ] || fail "no RSS samples"
echo "RSS floor in the second quarter: $((first / 1024)) MiB; in the last: $((last / 1024)) MiB ($(wc -l < "$tmp/rss.txt") samples)"
# Under a sanitizer the resident size is mostly the detector's own memory:
# TSan's shadow and history grow with every address touched, and ASan's
# quarantine holds freed blocks by design.  There the soak checks races,
# memory errors and crashes only (SOAK_RSS_CHECK=0, set by ./lab test).
if [ "${SOAK_RSS_CHECK:-1}" = 0 ]; then
  echo "RSS check off (SOAK_RSS_CHECK=0)"
else
  [ "$last" -le $((first + first / 10 + 16384)) ] || fail "memory floor grew from $first kB to $last kB"
fi

# smoothness: the worst frame of the run
worst=$(grep -o 'worst [0-9.]* ms' "$tmp/log.txt" | tail -n 1 | awk '{print $2}')
[ -n "$worst" ] || fail "no frame summary in the log"
awk -v w="$worst" -v m="$MAX_FRAME_MS" 'BEGIN { exit !(w <= m) }' || fail "a frame took $worst ms (limit $MAX_FRAME_MS)"
grep -q "training ran during [1-9]" "$tmp/log.txt" || fail "training did not run during the soak"
echo "soak_viz: ${SECONDS_TOTAL}s, worst frame $worst ms, memory flat"

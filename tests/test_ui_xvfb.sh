#!/usr/bin/env bash
# test_ui_xvfb.sh: `ddpm viz` in a real X11 window under Xvfb: it opens,
# takes keys (play, step, grid, help, export), writes a screenshot of its
# own view (P), and quits cleanly on Esc; on Xvfb's OpenGL (Mesa's llvmpipe,
# drawn by the CPU) it draws with SDL's software renderer instead.  Also:
# without any display it exits with code 2 and points at --screenshot.
# Usage: test_ui_xvfb.sh <ddpm binary> <source dir>.  Exit 77 = skipped.
set -u
DDPM=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$DDPM" viz --help >/dev/null 2>&1 || { echo "SKIP: this ddpm was built without the visualizer"; exit 77; }

# 1. no video device at all: a clear message and exit code 2
out=$(env -u DISPLAY -u WAYLAND_DISPLAY SDL_VIDEODRIVER=x11 "$DDPM" viz --quit-after 1 2>&1)
rc=$?
[ "$rc" -eq 2 ] || fail "without a display: exit code $rc, expected 2 ($out)"
echo "$out" | grep -q -- "--screenshot" || fail "the message should mention --screenshot: $out"
echo "ok: no display -> exit 2: $out"

command -v xvfb-run >/dev/null 2>&1 || { echo "SKIP: xvfb-run is not installed (apt-get install xvfb)"; exit 77; }
command -v xdotool >/dev/null 2>&1 || { echo "SKIP: xdotool is not installed"; exit 77; }

# Under AddressSanitizer, X11 and the GL driver (loaded and unloaded by SDL)
# leak a few bytes at exit that LeakSanitizer can only attribute to
# "<unknown module>": leak checks stay on for our code in the headless tests
# (test_ui_screenshot runs the same app code); here only memory errors count.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Under ThreadSanitizer, Mesa's software GL driver (llvmpipe, used by Xvfb)
# races inside its own threads; our threads are checked by test_ui_threads.
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$(cd "$(dirname "$0")" && pwd)/tsan_mesa.supp"
cat >"$tmp/drive.sh" <<'EOF'
set -u
DDPM=$1; OUT=$2
SDL_VIDEODRIVER=x11 "$DDPM" viz --fps --size 1280x720 --quit-after 40 --export-dir "$OUT/export" \
    --set steps=10 >"$OUT/log.txt" 2>&1 &
pid=$!
wid=""
for _ in $(seq 100); do
  wid=$(xdotool search --name '^ddpm viz$' 2>/dev/null | head -n 1)
  [ -n "$wid" ] && break
  sleep 0.1
done
[ -n "$wid" ] || { echo "no window appeared"; kill "$pid"; exit 3; }
xdotool windowfocus --sync "$wid" 2>/dev/null || true
sleep 1
for k in space Right Right g h h m m d d bracketright bracketleft; do
  xdotool key --clearmodifiers "$k"; sleep 0.15
done
xdotool mousemove --window "$wid" 640 360 click 1; sleep 0.3
xdotool key p            # export the view as a PNG
sleep 1.5
xdotool key Escape       # quit (no training running: no dialog)
wait "$pid"
echo "exit=$?"
EOF
res=$(SDL_VIDEODRIVER=x11 xvfb-run -a -s "-screen 0 1600x1000x24" bash "$tmp/drive.sh" "$DDPM" "$tmp" 2>&1)
echo "$res"
cat "$tmp/log.txt" 2>/dev/null
echo "$res" | grep -q "exit=0" || fail "the window run did not exit cleanly"
grep -q "ddpm viz: renderer software" "$tmp/log.txt" ||
  fail "under Xvfb (OpenGL in software) the window should use SDL's software renderer: $(grep renderer "$tmp/log.txt")"
png=$(ls "$tmp"/export/view-*.png 2>/dev/null | head -n 1)
[ -n "$png" ] || fail "pressing P wrote no screenshot into the export folder"
# PNG signature and the size in the IHDR chunk
sig=$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')
[ "$sig" = "89504e470d0a1a0a" ] || fail "$png is not a PNG"
w=$(od -An -tu1 -j16 -N4 "$png" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
h=$(od -An -tu1 -j20 -N4 "$png" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
[ "$w" -ge 960 ] && [ "$h" -ge 540 ] || fail "screenshot is ${w}x${h}"
size=$(stat -c %s "$png")
[ "$size" -gt 20000 ] || fail "screenshot $png is suspiciously small ($size bytes)"
echo "ok: window run, keys, screenshot $png (${w}x${h}, $size bytes), clean exit"
[ -n "${VIZ_XVFB_KEEP:-}" ] && cp "$png" "$VIZ_XVFB_KEEP"
exit 0

#!/usr/bin/env bash
# bench/viz_grid.sh: the visualizer's figure of README.md's Performance
# section: how long a 4x4 grid of 50-step DDIM trajectories of the bundled
# small model takes while the visualizer trains a model live, and the
# window's frame rate meanwhile.  A real window (on a private Xvfb server
# when no DISPLAY is given), `r` pressed every 3 s to resample; each job's
# time is what the visualizer itself logs ("job N: ... in X s").
#
#   bench/viz_grid.sh                 # 45 s, the default binary build/ddpm
#   bench/viz_grid.sh 90 ./other/ddpm # longer, or another build to compare
#
# Needs Xvfb and xdotool (Debian: xvfb xdotool) without a display.  Prints one
# Markdown row: jobs, mean, min, max grid time, average fps, 95th-percentile
# frame.  Run by hand; nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-45}
bin=${2:-./build/ddpm}
[ -x "$bin" ] || { echo "viz_grid.sh: no $bin; build first (cmake --build build)" >&2; exit 1; }
command -v xdotool > /dev/null || { echo "viz_grid.sh: needs xdotool (apt-get install xdotool)" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill "${xvfb:-}" 2> /dev/null || true; rm -rf "$work"' EXIT
. bench/xvfb.sh
need_display || { echo "viz_grid.sh: no DISPLAY and no Xvfb (apt-get install xvfb)" >&2; exit 1; }
"$bin" viz --fps --train-seconds 3600 --set mode=grid,steps=50,eta=0,model=eps-linear \
  --quit-after "$secs" --export-dir "$work/exports" > "$work/log" 2>&1 &
viz=$!
sleep 4
end=$((SECONDS + secs - 6))
while [ $SECONDS -lt $end ] && kill -0 $viz 2> /dev/null; do
  xdotool key r 2> /dev/null || true
  sleep 3
done
wait $viz || { echo "viz_grid.sh: ddpm viz failed:" >&2; cat "$work/log" >&2; exit 1; }
grep -m1 'renderer' "$work/log" >&2 || true
grep 'live training took' "$work/log" >&2 || true
# the first job starts with the window (its model is still loading): left out
grep -o 'in [0-9.]* s on [0-9]* thread(s) while training' "$work/log" | awk '{print $2}' | tail -n +2 |
  awk -v fps="$(grep -o '[0-9.]* fps on average' "$work/log" | awk '{print $1}')" \
      -v p95="$(grep -o '95th percentile [0-9.]* ms' "$work/log" | awk '{print $3}')" '
    { s += $1; n++; if (n == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
    END {
      if (n == 0) { print "viz_grid.sh: no job finished while training" > "/dev/stderr"; exit 1 }
      print "| jobs | grid mean s | min | max | fps | p95 frame ms |"
      print "|---:|---:|---:|---:|---:|---:|"
      printf "| %d | %.2f | %.2f | %.2f | %s | %s |\n", n, s / n, lo, hi, fps, p95
    }'

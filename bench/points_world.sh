#!/usr/bin/env bash
# bench/points_world.sh: the 2D world's figures of README.md: how fast live
# training learns each built-in point set, and how smooth the window stays
# meanwhile.
#
#   bench/points_world.sh                      # every set at 5, 10 and 20 s, then the window
#   bench/points_world.sh "10 20" "moons rings"
#
# Part 1, no window: `ddpm viz --set world=2d,dataset=SET --train-seconds S
# --save-live F --no-window` trains the live MLP exactly as the window does
# (its sampler refreshing the particles meanwhile), then `ddpm eval --checkpoint
# F --sampler ddpm --steps 1000 --sets 10` scores it: energy distance over the
# real-vs-real floor (1 = as good as real points; one set of 2,000 varies by
# about 2x, ten sets by about 20 %).
# Part 2, a real window on a private Xvfb server (when no DISPLAY is given):
# moons for 20 s with the default panels (2,000 particles, their paths, the
# field), the frame rate and training speed the visualizer logs with --fps,
# and the saved model's score.  Needs Xvfb without a display.  Run by hand;
# nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
secs_list=${1:-"5 10 20"}
sets=${2:-"moons swissroll gaussians8 checkerboard rings"}
bin=${BIN:-./build/ddpm}
[ -x "$bin" ] || { echo "points_world.sh: no $bin; build first (cmake --build build)" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill "${xvfb:-}" 2> /dev/null || true; rm -rf "$work"' EXIT
score() { # model -> "ratio (min..max)"
  "$bin" eval --checkpoint "$1" --sampler ddpm --steps 1000 --sets 10 --quiet --csv 2> /dev/null |
    awk -F, '$1 == "samples" { printf "%.2f (%.2f..%.2f)", $7, $5 / ($4 / $7), $6 / ($4 / $7) }'
}
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
printf "| set |"; for s in $secs_list; do printf " %s s |" "$s"; done; echo " steps at the last |"
printf "|---|"; for s in $secs_list; do printf -- "---:|"; done; echo "---:|"
for d in $sets; do
  printf "| %s |" "$d"
  steps=
  for s in $secs_list; do
    "$bin" viz --set "world=2d,dataset=$d" --train-seconds "$s" --save-live "$work/$d-$s.safetensors" --no-window \
      > "$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
    steps=$(grep -o 'of step [0-9]*' "$work/log" | awk '{print $3}')
    printf " %s |" "$(score "$work/$d-$s.safetensors")"
  done
  echo " $steps |"
done

# part 2: the window
. bench/xvfb.sh
need_display || { echo "points_world.sh: no DISPLAY and no Xvfb: window part left out" >&2; exit 0; }
"$bin" viz --fps --set world=2d,dataset=moons --train-seconds 20 --save-live "$work/window.safetensors" \
  --export-dir "$work/exports" > "$work/wlog" 2>&1 || { cat "$work/wlog" >&2; exit 1; }
grep -m1 'renderer' "$work/wlog" || true
grep 'fps on average' "$work/wlog" || true
grep 'live training took' "$work/wlog" || true
grep 'sampling weights' "$work/wlog" || true
echo "window run, moons at 20 s: ED/floor $(score "$work/window.safetensors")"

#!/usr/bin/env bash
# bench/live_curve.sh: what the audience of a live training sees, measured.
# For each wall time S (default 30 60 120 300 s) the visualizer trains its
# live network from scratch on the default settings, headless
# (`ddpm viz --train-seconds S --save-live`), in the view given (single by
# default, as the window opens; `grid` for the 4x4 grid view), and saves the
# live model's sampling weights.  Each model is then sampled as the
# visualizer shows it (`ddpm sample` defaults to the visualizer's settings
# for a model: DDIM-50, eta 0, unclipped) and scored by `ddpm eval` (n =
# 1000) against the held-out digits: classifier confidence, label entropy
# and the Frechet distance as a multiple of the real data's own floor.
#
#   bench/live_curve.sh                      # 30 60 120 300 s, single view
#   bench/live_curve.sh "60 120" grid        # other times, the grid view
#   BIN=./other/ddpm bench/live_curve.sh 120 # another build
#   HISTORY=assets/history bench/live_curve.sh 300   # also keep the run's snapshots
#                                            # (how the bundled history was made)
#
# Prints a Markdown table: seconds, training steps, steps/s, confidence,
# entropy, FD, FD / floor, and the CPU.  Run by hand; nothing here is a test.
# The bars of issue 16: confidence >= 0.90, entropy >= 2.15, FD <= 3x floor.
set -euo pipefail
cd "$(dirname "$0")/.."
times=${1:-30 60 120 300}
view=${2:-single}
bin=${BIN:-./build/ddpm}
[ -x "$bin" ] || { echo "live_curve.sh: no $bin; build first (cmake --build build)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' '))"
echo "CPU: $cpu, $(nproc) cores; view: $view; $(date -u +%Y-%m-%d)"
echo
echo "| seconds | steps | steps/s | confidence | entropy | FD | FD / floor |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for s in $times; do
  model="$work/live-$s.safetensors"
  hist=()
  [ -n "${HISTORY:-}" ] && [ "$s" = "${times##* }" ] && hist=(--save-history "$HISTORY") # the last run's
  "$bin" viz --no-window --train-seconds "$s" --save-live "$model" --set "mode=$view" "${hist[@]}" \
    > "$work/viz-$s.log" 2>&1 ||
    { echo "live_curve.sh: ddpm viz failed:" >&2; cat "$work/viz-$s.log" >&2; exit 1; }
  "$bin" sample "$model" -n 1000 --out "$work/s-$s.png" --idx "$work/s-$s-idx" --quiet > /dev/null 2>&1 ||
    { echo "live_curve.sh: ddpm sample failed" >&2; exit 1; }
  "$bin" eval "$work/s-$s-idx" --quiet > "$work/eval-$s.txt" 2>&1 ||
    { echo "live_curve.sh: ddpm eval failed:" >&2; cat "$work/eval-$s.txt" >&2; exit 1; }
  # steps: from the checkpoint's metadata
  steps=$(grep -ao '"step":"[0-9]*"' "$model" | head -1 | grep -o '[0-9]*' || echo "?")
  read -r conf ent is fd ratio < <(grep '^samples' "$work/eval-$s.txt" | awk '{print $3, $4, $5, $6, $7}')
  printf "| %s | %s | %.1f | %s | %s | %s | %s× |\n" "$s" "$steps" "$(echo "$steps / $s" | bc -l)" \
    "$conf" "$ent" "$fd" "$ratio"
done

#!/usr/bin/env bash
# test_viz_save_live.sh: the headless live training (issue 16):
#  - `ddpm viz --train-seconds S --save-live M --save-history H` trains the
#    live network without a window and writes its sampling weights to M, a
#    checkpoint `ddpm sample` loads, and the run's snapshots to H (F16, one
#    of them at the last step), which `ddpm sample` loads too;
#  - `ddpm sample` on a model defaults to what the visualizer shows for it
#    (DDIM, 50 steps, eta 0 for digits): the defaults and the explicit
#    settings give the same bytes;
#  - --save-history refuses a folder that already holds snapshots without
#    --force (exit 2), and replaces them with it.
# Usage: test_viz_save_live.sh <ddpm> <source dir>
set -u
ddpm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$ddpm" viz --no-window --train-seconds 2 --train-batch 4 --save-live "$tmp/live.safetensors" \
  --save-history "$tmp/hist" > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "headless live training"; }
[ -s "$tmp/live.safetensors" ] || fail "--save-live wrote nothing"
grep -q '"prediction":"x0"' "$tmp/live.safetensors" || grep -q 'prediction\\":\\"x0' "$tmp/live.safetensors" ||
  fail "the live network is the live preset (x0-prediction)"
ls "$tmp/hist"/step-*.safetensors > /dev/null 2>&1 || fail "--save-history wrote no snapshot"
last=$(ls "$tmp/hist"/step-*.safetensors | tail -1)

# the saved model and the snapshot sample; defaults = the visualizer's settings
"$ddpm" sample "$tmp/live.safetensors" -n 4 --threads 1 --out "$tmp/a.png" > "$tmp/sa" 2>&1 ||
  { cat "$tmp/sa" >&2; fail "ddpm sample loads the --save-live checkpoint"; }
grep -q "DDIM, 50 steps, eta 0" "$tmp/sa" || { cat "$tmp/sa" >&2; fail "sample's default is DDIM-50, eta 0"; }
"$ddpm" sample "$tmp/live.safetensors" -n 4 --threads 1 --sampler ddim --steps 50 --eta 0 --out "$tmp/b.png" \
  > /dev/null 2>&1 || fail "sample with explicit settings"
cmp -s "$tmp/a-images-idx3-ubyte" "$tmp/b-images-idx3-ubyte" || fail "the defaults differ from DDIM-50, eta 0"
"$ddpm" sample "$last" -n 4 --threads 1 --quiet --out "$tmp/c.png" 2> "$tmp/sc" ||
  { cat "$tmp/sc" >&2; fail "ddpm sample loads an F16 snapshot"; }

# no silent overwrite of a history
"$ddpm" viz --no-window --train-seconds 1 --train-batch 4 --save-history "$tmp/hist" > "$tmp/log2" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "--save-history into a folder with snapshots: exit $rc, expected 2"
grep -q "already holds snapshots" "$tmp/log2" || { cat "$tmp/log2" >&2; fail "the refusal says why"; }
cmp -s "$last" "$(ls "$tmp/hist"/step-*.safetensors | tail -1)" || fail "the refused run changed the history"
"$ddpm" viz --no-window --train-seconds 1 --train-batch 4 --save-history "$tmp/hist" --force > "$tmp/log3" 2>&1 ||
  { cat "$tmp/log3" >&2; fail "--force replaces the history"; }
echo "test_viz_save_live: all checks passed"

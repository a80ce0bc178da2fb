#!/usr/bin/env bash
# test_crash_safety.sh: a training run survives kill -9 at random moments
# (resume loses at most one checkpoint interval and the checkpoint is never
# half-written), a full disk during a save (the save fails clearly, the
# previous checkpoint stays byte-identical, no temporary file is left), and
# divergence (stopped with a message, previous checkpoint intact).
# Usage: test_crash_safety.sh <ddpm> <source dir>
set -u
ddpm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
every=3
common=(--preset tiny --batch 4 --log-every 1 --save-every $every --sample-every 0 --quiet --threads 1)
run="$tmp/run"

# 1. kill -9 at random moments, resume each time
"$ddpm" train "${common[@]}" --steps 4 --out "$run" 2>/dev/null || fail "first run"
for round in 1 2 3; do
  "$ddpm" train "${common[@]}" --out "$run" --resume --steps 100000 2>/dev/null &
  pid=$!
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 1.0 + (r % 200) / 100 }')"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  last=$(tail -n 1 "$run/loss.csv" | cut -d, -f1)
  ls "$run"/*.tmp.* > /dev/null 2>&1 && rm -f "$run"/*.tmp.*   # a temp file may remain after kill -9
  # the checkpoint loads (it is never half-written) ...
  "$ddpm" sample "$run/ckpt.safetensors" --steps 1 -n 1 --quiet --out "$tmp/probe.png" 2>"$tmp/err" \
    || fail "round $round: checkpoint unreadable after kill -9: $(cat "$tmp/err")"
  # ... and resuming loses at most one checkpoint interval
  "$ddpm" train "${common[@]}" --out "$run" --resume --steps 100000 2>"$tmp/resume.err" &
  pid=$!
  for _ in $(seq 1 100); do grep -q "resuming at step" "$tmp/resume.err" && break; sleep 0.05; done
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  at=$(grep -o "resuming at step [0-9]*" "$tmp/resume.err" | grep -o "[0-9]*$")
  [ -n "$at" ] || fail "round $round: no resume message: $(cat "$tmp/resume.err")"
  [ "$at" -le "$last" ] && [ "$at" -ge $((last - every)) ] \
    || fail "round $round: killed after step $last, resumed at $at (interval $every)"
  echo "round $round: killed after step $last, resumed at step $at"
done

# 2. a full disk during a checkpoint save
"$ddpm" train "${common[@]}" --steps 6 --out "$tmp/full" 2>/dev/null || fail "run for the disk-full case"
cp "$tmp/full/ckpt.safetensors" "$tmp/before.safetensors"
size_kb=$(( $(stat -c %s "$tmp/before.safetensors") / 1024 ))
( ulimit -f $((size_kb / 2)); "$ddpm" train "${common[@]}" --out "$tmp/full" --resume --steps 12 ) 2>"$tmp/full.err"
rc=$?
[ $rc -ne 0 ] || fail "a save larger than the file-size limit succeeded"
grep -q "full" "$tmp/full.err" || fail "disk-full message: $(cat "$tmp/full.err")"
grep -q "intact" "$tmp/full.err" || fail "the message does not say the old checkpoint is intact"
cmp -s "$tmp/before.safetensors" "$tmp/full/ckpt.safetensors" || fail "the previous checkpoint changed"
ls "$tmp/full"/*.tmp.* > /dev/null 2>&1 && fail "a temporary file was left behind"
"$ddpm" train "${common[@]}" --out "$tmp/full" --resume --steps 8 2>/dev/null || fail "resume after freeing space"

# 3. divergence: a huge learning rate stops the run, the checkpoint survives
cp "$tmp/full/ckpt.safetensors" "$tmp/before.safetensors"
"$ddpm" train "${common[@]}" --save-every 1000 --out "$tmp/full" --resume --steps 60 --lr 1 2>"$tmp/div.err"
rc=$?
[ $rc -eq 1 ] || fail "divergence exit code $rc"
grep -q "diverged" "$tmp/div.err" || fail "divergence message: $(cat "$tmp/div.err")"
cmp -s "$tmp/before.safetensors" "$tmp/full/ckpt.safetensors" || fail "a diverged run overwrote the checkpoint"
echo "test_crash_safety: all checks passed"

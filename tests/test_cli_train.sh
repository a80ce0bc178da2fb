#!/usr/bin/env bash
# test_cli_train.sh: `ddpm train` end to end.  A run split by --resume gives
# the same loss curve as an uninterrupted one; Ctrl-C saves a resumable
# checkpoint; a NaN stops the run and keeps the last good checkpoint; bad
# flags exit with code 2.  Usage: test_cli_train.sh <ddpm> <source dir>
set -u
ddpm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
common=(--preset tiny --batch 4 --log-every 2 --save-every 4 --sample-every 0 --quiet --threads 1)

# 1. uninterrupted 12 steps
"$ddpm" train "${common[@]}" --steps 12 --out "$tmp/a" || fail "training run a"
# 2. the same run stopped at 6 and resumed to 12
"$ddpm" train "${common[@]}" --steps 6 --out "$tmp/b" || fail "training run b, first part"
"$ddpm" train "${common[@]}" --out "$tmp/b" --resume --steps 12 || fail "resume of run b"
[ "$(wc -l < "$tmp/a/loss.csv")" -eq 7 ] || fail "loss.csv of run a should have a header and 6 rows"
# step, loss, lr, grad norm and the ten loss-by-t bands must match exactly
cut -d, -f1,2,4,5,8- "$tmp/a/loss.csv" > "$tmp/a.cols"
cut -d, -f1,2,4,5,8- "$tmp/b/loss.csv" > "$tmp/b.cols"
diff "$tmp/a.cols" "$tmp/b.cols" > /dev/null || { diff "$tmp/a.cols" "$tmp/b.cols" >&2; fail "resumed loss curve differs"; }
cmp -s "$tmp/a/model.safetensors" "$tmp/b/model.safetensors" || fail "resumed model differs from the uninterrupted one"

# 3. resume after rows were written beyond the checkpoint: they are replaced, not duplicated
"$ddpm" train "${common[@]}" --steps 5 --out "$tmp/c" || fail "run c"   # ckpt at 5 (final), rows 2, 4, 5
printf '6,9,9,9,9,9,9,,,,,,,,,,\n' >> "$tmp/c/loss.csv"                # a row from after the checkpoint
"$ddpm" train "${common[@]}" --out "$tmp/c" --resume --steps 8 || fail "resume c"
[ "$(cut -d, -f1 "$tmp/c/loss.csv" | tr '\n' ' ')" = "step 2 4 5 6 8 " ] || fail "rows after resume: $(cut -d, -f1 "$tmp/c/loss.csv" | tr '\n' ' ')"
grep -q '^6,9,' "$tmp/c/loss.csv" && fail "a stale row survived the resume"

# 3b. a loss.csv whose last row lost its newline: the next row starts a line of its own (issue 18)
"$ddpm" train "${common[@]}" --steps 4 --out "$tmp/e" || fail "run e"
printf '%s' "$(cat "$tmp/e/loss.csv")" > "$tmp/e/cut.csv" && mv "$tmp/e/cut.csv" "$tmp/e/loss.csv"
[ "$(tail -c 1 "$tmp/e/loss.csv" | od -An -tx1 | tr -d ' ')" != "0a" ] || fail "the fixture kept its newline"
"$ddpm" train "${common[@]}" --out "$tmp/e" --resume --steps 8 || fail "resume e"
[ "$(cut -d, -f1 "$tmp/e/loss.csv" | tr '\n' ' ')" = "step 2 4 6 8 " ] || fail "rows glued on resume: $(cut -d, -f1 "$tmp/e/loss.csv" | tr '\n' ' ')"
fields=$(head -1 "$tmp/e/loss.csv" | tr -cd , | wc -c)
awk -F, -v f="$fields" 'NF - 1 != f { exit 1 }' "$tmp/e/loss.csv" || fail "a row with another number of fields"

# 4. Ctrl-C saves and exits cleanly; the run resumes from there
"$ddpm" train "${common[@]}" --steps 100000 --out "$tmp/d" 2> "$tmp/d.err" &
pid=$!
for _ in $(seq 1 200); do [ -f "$tmp/d/ckpt.safetensors" ] && break; sleep 0.1; done
sleep 0.3
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "Ctrl-C exit code $rc"
grep -q "interrupted at step" "$tmp/d.err" || fail "no interruption message: $(cat "$tmp/d.err")"
"$ddpm" train --out "$tmp/d" --resume --steps 100000 --quiet --threads 1 --save-every 1000000 2>/dev/null &
pid=$!
sleep 1
kill -INT $pid
wait $pid || fail "second Ctrl-C"

# 5. bad input: exit code 2 with a message naming the problem
check_bad() { # expected-substring args...
  local want=$1; shift
  "$ddpm" "$@" > /dev/null 2> "$tmp/err"
  local rc=$?
  [ $rc -eq 2 ] || fail "'$*' exited $rc, expected 2"
  grep -q -- "$want" "$tmp/err" || fail "'$*' said: $(cat "$tmp/err")"
}
check_bad "unknown preset" train --preset huge --out "$tmp/x"
check_bad "batch" train --preset tiny --batch 0 --out "$tmp/x"
check_bad "T =" train --preset tiny --T 1 --out "$tmp/x"
check_bad "unknown schedule" train --schedule cosin --out "$tmp/x"
check_bad "nothing to resume" train --out "$tmp/none" --resume
check_bad "paths up to" train --preset tiny --steps 1 --out "$tmp/$(printf 'a%.0s' $(seq 2100))"
check_bad "already holds ckpt.safetensors (a run)" train "${common[@]}" --steps 2 --out "$tmp/a"
cmp -s "$tmp/a/model.safetensors" "$tmp/b/model.safetensors" || fail "a refused run touched the folder"
check_bad "expects a finite number" train --lr abc --out "$tmp/x"
check_bad "unknown option" train --lerning-rate 1 --out "$tmp/x"
mkdir -p "$tmp/ro" && chmod 555 "$tmp/ro"
touch "$tmp/plainfile"
check_bad "Not a directory" train "${common[@]}" --steps 2 --out "$tmp/plainfile/run"
if [ "$(id -u)" -ne 0 ]; then check_bad "writable" train "${common[@]}" --steps 2 --out "$tmp/ro/run"; fi
echo "test_cli_train: all checks passed"

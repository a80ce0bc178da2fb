#!/usr/bin/env bash
# test_cli_points.sh: the 2D world from the shell: `ddpm train --data moons`
# picks the MLP and learns the moons well enough that its samples sit on
# them; `ddpm sample` on it writes a scatter PNG, a CSV (--csv) and a
# trajectory; `ddpm eval` scores a CSV and a checkpoint alike (the same
# numbers), and the same seed repeats; bad input exits 2 with a message.
# Usage: test_cli_points.sh <ddpm> <source dir>
set -u
ddpm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$ddpm" train --data moons --steps 1500 --sample-every 0 --quiet --threads 1 --out "$tmp/run" 2> "$tmp/train.err" \
  || fail "train --data moons: $(cat "$tmp/train.err")"
grep -q "MLP 2-D points" "$tmp/train.err" || fail "the MLP was not chosen for points: $(head -3 "$tmp/train.err")"
grep -q "v-prediction" "$tmp/train.err" || fail "points train with v-prediction by default"
model="$tmp/run/model.safetensors"
[ -s "$model" ] || fail "no model"

# sample: 2000 points by default, a scatter PNG over the data and a CSV with its data set named
"$ddpm" sample "$model" --sampler ddpm --steps 200 --quiet --threads 1 --out "$tmp/s.png" --trajectory 2> "$tmp/s.err" \
  || fail "sample: $(cat "$tmp/s.err")"
for f in s.png s-points.csv s-trajectory.png s-trajectory.gif; do [ -s "$tmp/$f" ] || fail "$f missing"; done
[ "$(head -c 8 "$tmp/s.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "s.png is not a PNG"
head -1 "$tmp/s-points.csv" | grep -q "dataset=moons" || fail "the CSV does not name its data set"
[ "$(grep -vc '^#\|^x' "$tmp/s-points.csv")" -eq 2000 ] || fail "2000 points expected"
"$ddpm" sample "$model" --sampler ddpm --steps 200 --quiet --threads 2 --csv "$tmp/again.csv" --out "$tmp/again.png" 2>/dev/null \
  || fail "sample again"
cmp -s <(tail -n +2 "$tmp/s-points.csv") <(tail -n +2 "$tmp/again.csv") || fail "the same seed gave other points (or 2 threads did)"

# eval: the CSV and the checkpoint give the same score; the samples sit near the data
"$ddpm" eval "$tmp/s-points.csv" --csv > "$tmp/e1.csv" 2> "$tmp/e1.err" || fail "eval csv: $(cat "$tmp/e1.err")"
"$ddpm" eval --checkpoint "$model" --sampler ddpm --steps 200 --sets 1 --quiet --threads 1 --csv > "$tmp/e2.csv" \
  2> "$tmp/e2.err" || fail "eval checkpoint: $(cat "$tmp/e2.err")"
cmp -s "$tmp/e1.csv" "$tmp/e2.csv" || fail "eval of the CSV and of the checkpoint differ: $(cat "$tmp/e1.csv" "$tmp/e2.csv")"
ratio=$(awk -F, '$1 == "samples" {print $7}' "$tmp/e1.csv")
awk -v r="$ratio" 'BEGIN { exit !(r > 0 && r < 12) }' || fail "1500 steps should land near the moons: ED/floor $ratio"
# a Gaussian cloud is far from them
awk 'BEGIN { srand(3); print "# dataset=moons"; for (i = 0; i < 2000; i++) {
  u = rand(); v = rand(); r = sqrt(-2 * log(u + 1e-12)); printf "%f,%f\n", r * cos(6.2831853 * v), r * sin(6.2831853 * v) } }' \
  > "$tmp/gauss.csv"
gr=$("$ddpm" eval "$tmp/gauss.csv" --csv 2>/dev/null | awk -F, '$1 == "samples" {print $7}')
awk -v r="$gr" -v m="$ratio" 'BEGIN { exit !(r > 50 && r > 5 * m) }' || fail "N(0, I) scored $gr, the model $ratio"

check_bad() { # expected-substring args...
  local want=$1; shift
  "$ddpm" "$@" > /dev/null 2> "$tmp/err"
  local rc=$?
  [ $rc -eq 2 ] || fail "'$*' exited $rc, expected 2 ($(cat "$tmp/err"))"
  grep -q -- "$want" "$tmp/err" || fail "'$*' said: $(cat "$tmp/err")"
}
printf '1,2\n3\n' > "$tmp/bad.csv"
check_bad "line 2" eval "$tmp/bad.csv" --data moons
check_bad "line 2" train --data "$tmp/bad.csv" --steps 1 --out "$tmp/x"
printf '1,2\n3,4\n' > "$tmp/nodata.csv"
check_bad "which data set" eval "$tmp/nodata.csv"
check_bad "unknown dataset" eval "$tmp/nodata.csv" --data spiral
check_bad "is a unet" train --data moons --preset small --arch mlp --steps 1 --out "$tmp/x"
check_bad "expects 1x28x28" train --data moons --arch unet --steps 1 --out "$tmp/x"
check_bad "makes points" sample "$model" --idx "$tmp/x.idx" --out "$tmp/x.png"
check_bad "holds images" eval --checkpoint "$model" --quiet --data digits
# a user's own points: a CSV of three columns trains a 3-D MLP
awk 'BEGIN { srand(5); for (i = 0; i < 500; i++) printf "%f,%f,%f\n", rand(), rand() - 1, 2 * rand() }' > "$tmp/cube.csv"
"$ddpm" train --data "$tmp/cube.csv" --steps 20 --sample-every 0 --quiet --threads 1 --out "$tmp/cube" 2> "$tmp/c.err" \
  || fail "train on a CSV: $(cat "$tmp/c.err")"
grep -q "3-D points" "$tmp/c.err" || fail "the CSV's three columns: $(head -2 "$tmp/c.err")"
echo "test_cli_points: all checks passed"

#!/usr/bin/env bash
# test_cli_sample.sh: `ddpm sample` end to end: grid, IDX export and
# trajectory outputs exist and are well formed; the same seed repeats bit for
# bit (also across thread counts); eta changes the result; bad input exits 2.
# Usage: test_cli_sample.sh <ddpm> <source dir>
set -u
ddpm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$ddpm" train --preset tiny --batch 4 --steps 3 --sample-every 0 --quiet --threads 1 --out "$tmp/run" 2>/dev/null || fail "training a model to sample from"
model="$tmp/run/model.safetensors"
s=(--steps 5 -n 4 --quiet --threads 1)

"$ddpm" sample "$model" "${s[@]}" --out "$tmp/a.png" --trajectory 2>/dev/null || fail "sample with trajectory"
for f in a.png a-images-idx3-ubyte a-trajectory.png a-trajectory.gif; do
  [ -s "$tmp/$f" ] || fail "$f missing"
done
[ "$(head -c 8 "$tmp/a.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "a.png is not a PNG"
[ "$(head -c 6 "$tmp/a-trajectory.gif")" = "GIF89a" ] || fail "trajectory GIF header"
# IDX3: magic 0x00000803, n = 4, 28 x 28, then 4*784 bytes
[ "$(head -c 16 "$tmp/a-images-idx3-ubyte" | od -An -tx1 | tr -d ' \n')" = "00000803000000040000001c0000001c" ] || fail "IDX header"
[ "$(stat -c %s "$tmp/a-images-idx3-ubyte")" -eq $((16 + 4 * 784)) ] || fail "IDX size"

# the report names what the sampler does: DDPM's variance, not an eta it ignores (issue 20)
rep=$("$ddpm" sample "$model" --steps 5 -n 4 --threads 1 --sampler ddpm --variance large --out "$tmp/v.png" 2>&1 >/dev/null | grep "^ddpm sample:") ||
  fail "sample --sampler ddpm"
echo "$rep" | grep -q "sigma^2 = beta (large)" || fail "the DDPM report does not name the variance: $rep"
echo "$rep" | grep -qw "eta" && fail "the DDPM report names an eta: $rep"
rep=$("$ddpm" sample "$model" --steps 5 -n 4 --threads 1 --eta 0.5 --out "$tmp/w.png" 2>&1 >/dev/null | grep "^ddpm sample:") || fail "sample eta"
echo "$rep" | grep -q "DDIM, 5 steps, eta 0.5" || fail "the DDIM report: $rep"

# same seed, same bytes; at 2 threads too; a different seed or eta differs
"$ddpm" sample "$model" "${s[@]}" --out "$tmp/b.png" 2>/dev/null || fail "sample b"
cmp -s "$tmp/a-images-idx3-ubyte" "$tmp/b-images-idx3-ubyte" || fail "the same seed gave different samples"
"$ddpm" sample "$model" --steps 5 -n 4 --quiet --threads 2 --out "$tmp/c.png" 2>/dev/null || fail "sample c"
cmp -s "$tmp/a-images-idx3-ubyte" "$tmp/c-images-idx3-ubyte" || fail "2 threads gave different samples"
"$ddpm" sample "$model" "${s[@]}" --seed 1 --out "$tmp/d.png" 2>/dev/null || fail "sample d"
cmp -s "$tmp/a-images-idx3-ubyte" "$tmp/d-images-idx3-ubyte" && fail "seed 1 gave the samples of seed 0"
"$ddpm" sample "$model" "${s[@]}" --eta 1 --out "$tmp/e.png" 2>/dev/null || fail "sample e"
cmp -s "$tmp/a-images-idx3-ubyte" "$tmp/e-images-idx3-ubyte" && fail "eta 1 gave the samples of eta 0"
"$ddpm" sample "$model" "${s[@]}" --sampler ddpm --variance large --spacing trailing --clip --out "$tmp/f.png" 2>/dev/null || fail "ddpm sampler"
"$ddpm" sample "$model" "${s[@]}" --schedule cosine --out "$tmp/g.png" 2> "$tmp/g.err" || fail "schedule override"
grep -q "trained with linear" "$tmp/g.err" || fail "no mismatch note: $(cat "$tmp/g.err")"
"$ddpm" sample "$model" --steps 1 -n 1 --quiet --out "$tmp/h.png" 2>/dev/null || fail "steps = 1"

check_bad() { # expected-substring args...
  local want=$1; shift
  "$ddpm" "$@" > /dev/null 2> "$tmp/err"
  local rc=$?
  [ $rc -eq 2 ] || fail "'$*' exited $rc, expected 2 ($(cat "$tmp/err"))"
  grep -q -- "$want" "$tmp/err" || fail "'$*' said: $(cat "$tmp/err")"
}
check_bad "eta" sample "$model" --eta -1 --out "$tmp/x.png"
check_bad "eta" sample "$model" --eta 1.5 --out "$tmp/x.png"
check_bad "steps = 0" sample "$model" --steps 0 --out "$tmp/x.png"
check_bad "steps = 5000" sample "$model" --steps 5000 --out "$tmp/x.png"
check_bad "unknown sampler" sample "$model" --sampler euler --out "$tmp/x.png"
check_bad "missing.safetensors" sample "$tmp/missing.safetensors" --out "$tmp/x.png"
head -c 3000 /dev/urandom > "$tmp/garbage.safetensors"
check_bad "garbage.safetensors" sample "$tmp/garbage.safetensors" --out "$tmp/x.png"
head -c 5000 "$model" > "$tmp/truncated.safetensors"
check_bad "truncated.safetensors" sample "$tmp/truncated.safetensors" --out "$tmp/x.png"
check_bad "out of range" sample "$model" -n 0 --out "$tmp/x.png"
touch "$tmp/plainfile"
check_bad "plainfile" sample "$model" "${s[@]}" --out "$tmp/plainfile/x.png"
echo "test_cli_sample: all checks passed"

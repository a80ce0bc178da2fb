#!/bin/bash
# test_eval.sh: `ddpm eval` scores an IDX file and a checkpoint's fresh
# samples identically (both are quantised the same way), prints the floor
# beside them, and refuses bad files with exit 2 and a message that names the
# file and the fix.
# usage: test_eval.sh path/to/ddpm source-dir
name=test_eval
. "$(dirname "$0")/eval_common.sh"
"$ddpm" sample --threads 1 "$model" -n 12 --steps 2 --seed 3 --quiet --out "$tmp/s.png" >"$tmp/sample.log" 2>&1 ||
    fail "sampling: $(cat "$tmp/sample.log")"
idx="$tmp/s-images-idx3-ubyte"
[ -s "$idx" ] || fail "ddpm sample wrote no IDX file"

# ---- the table and the CSV ----------------------------------------------------------------
# the table; -n takes the first images of a file, and the floor has as many digits
"$ddpm" eval --threads 1 "$idx" -n 5 >"$tmp/table.out" 2>&1 || fail "eval of an IDX file: $(cat "$tmp/table.out")"
grep -q "^samples  *5 " "$tmp/table.out" && grep -q "^real digits (floor)  *5 " "$tmp/table.out" ||
    fail "table lacks the samples or the floor line of 5 images: $(cat "$tmp/table.out")"
"$ddpm" eval --threads 1 "$idx" --csv >"$tmp/idx.csv" 2>"$tmp/idx.err" || fail "eval --csv: $(cat "$tmp/idx.err")"
[ "$(head -n 1 "$tmp/idx.csv")" = "set,n,confidence,entropy,inception_score,fd,fd_ratio" ] ||
    fail "CSV header: $(head -n 1 "$tmp/idx.csv")"
[ "$(wc -l <"$tmp/idx.csv")" -eq 3 ] || fail "CSV should have a samples and a floor row: $(cat "$tmp/idx.csv")"
awk -F, 'NR == 2 && !($1 == "samples" && $2 == 12) { bad = 1 }
         NR == 3 && !($1 == "floor" && $2 == 12 && $7 == "1.000000" && $3 > 0.8) { bad = 1 }
         NR > 1 && NF != 7 { bad = 1 } END { exit bad }' "$tmp/idx.csv" || fail "CSV rows: $(cat "$tmp/idx.csv")"

# ---- --checkpoint: the same numbers as sample + eval --------------------------------------------
"$ddpm" eval --threads 1 --checkpoint "$model" -n 12 --steps 2 --seed 3 --batch 5 --quiet --csv >"$tmp/ckpt.csv" 2>"$tmp/ckpt.err" ||
    fail "eval --checkpoint: $(cat "$tmp/ckpt.err")"
cmp -s "$tmp/ckpt.csv" "$tmp/idx.csv" ||
    fail "eval --checkpoint differs from sample + eval: $(cat "$tmp/ckpt.csv") vs $(cat "$tmp/idx.csv")"
# the same numbers at 2 threads (sampling and the classifier's batches on the project's pool)
"$ddpm" eval --threads 2 --checkpoint "$model" -n 12 --steps 2 --seed 3 --batch 5 --quiet --csv >"$tmp/ckpt2.csv" 2>"$tmp/ckpt2.err" ||
    fail "eval --checkpoint --threads 2: $(cat "$tmp/ckpt2.err")"
cmp -s "$tmp/ckpt.csv" "$tmp/ckpt2.csv" ||
    fail "eval at 2 threads differs from 1: $(cat "$tmp/ckpt2.csv") vs $(cat "$tmp/ckpt.csv")"

# ---- bad input: exit 2 with the file and the fix ---------------------------------------------------
expect_bad "a missing IDX file" "$tmp/none-idx3-ubyte" "$tmp/none-idx3-ubyte"
: >"$tmp/empty"
expect_bad "an empty file" "$tmp/empty" "$tmp/empty"
head -c 3000 /dev/urandom >"$tmp/noise"
expect_bad "random bytes" "$tmp/noise" "$tmp/noise"
printf '\x00\x00\x08\x03\x00\x00\x00\x00\x00\x00\x00\x1c\x00\x00\x00\x1c' >"$tmp/zero-images"
expect_bad "an IDX file of zero images" "$tmp/zero-images" "$tmp/zero-images"
{ printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x0e\x00\x00\x00\x0e'; head -c 392 /dev/zero; } >"$tmp/small"
expect_bad "14x14 images" "28x28" "$tmp/small"
{ printf '\x00\x00\x08\x01\x00\x00\x00\x03'; printf '\x01\x02\x03'; } >"$tmp/labels"
expect_bad "a label file" "$tmp/labels" "$tmp/labels"
expect_bad "a missing classifier" "train-classifier" "$idx" --classifier "$tmp/none.safetensors"
head -c 5000 "$model" >"$tmp/cut.safetensors"
expect_bad "a truncated classifier" "train-classifier" "$idx" --classifier "$tmp/cut.safetensors"
expect_bad "a UNet checkpoint as classifier" "not a digit classifier" "$idx" --classifier "$model"
expect_bad "a missing checkpoint" "$tmp/none.safetensors" --checkpoint "$tmp/none.safetensors"
expect_bad "both an IDX file and a checkpoint" "exactly one" "$idx" --checkpoint "$model"
expect_bad "neither" "exactly one"
expect_bad "steps beyond T" "T = 1000" --checkpoint "$model" --steps 1001 -n 2
expect_bad "zero epochs" "--epochs" --train-classifier --epochs 0
expect_bad "an unwritable classifier path" "$tmp/no/such/dir" --train-classifier --out "$tmp/no/such/dir/c.safetensors"
expect_bad "a classifier of points" "not a labelled set of 28x28 images" --train-classifier --data moons --out "$tmp/c.safetensors"

echo "test_eval: all checks passed"

#!/bin/bash
# test_sweep.sh: `ddpm sweep` on a checkpoint trained here in a second: the
# PNG and the CSV exist with the expected rows and columns, every cell is
# reproducible (within a run and across runs), eta changes what it should,
# several checkpoints stack, and bad lists or files are refused with exit 2
# before anything is written.
# usage: test_sweep.sh path/to/ddpm source-dir
set -u
ddpm="$1"
tmp=$(mktemp -d /tmp/ddpm_test_sweep_XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

"$ddpm" train --preset tiny --steps 3 --batch 4 --threads 1 --preview-steps 1 --sample-every 0 --quiet \
    --out "$tmp/run" >"$tmp/train.log" 2>&1 || fail "training the test model: $(cat "$tmp/train.log")"
model="$tmp/run/model.safetensors"

sweep() { "$ddpm" sweep --threads 1 "$model" --eta 0,0.5,0 --steps 1,3 -n 3 --score-n 8 --quiet "$@"; }

# ---- one sweep: files, shape of the CSV ---------------------------------------------
sweep --out "$tmp/a.png" >"$tmp/a.out" 2>&1 || fail "sweep failed: $(cat "$tmp/a.out")"
[ -s "$tmp/a.png" ] || fail "no PNG written"
[ "$(head -c 8 "$tmp/a.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "a.png is not a PNG"
[ -s "$tmp/a.csv" ] || fail "no CSV at the default <out>.csv"
header="checkpoint,prediction,schedule,eta,steps,n_scored,confidence,entropy,inception_score,fd,fd_ratio,seconds"
[ "$(head -n 1 "$tmp/a.csv")" = "$header" ] || fail "CSV header: $(head -n 1 "$tmp/a.csv")"
[ "$(wc -l <"$tmp/a.csv")" -eq 7 ] || fail "expected 1 + 3 eta x 2 steps rows, got $(wc -l <"$tmp/a.csv") lines"
awk -F, 'NR > 1 && NF != 12 { bad = 1 } END { exit bad }' "$tmp/a.csv" || fail "a row without 12 fields"
# cells in order: eta rows, step columns; scores are numbers in range
expected_cells="0:1 0:3 0.5:1 0.5:3 0:1 0:3"
got_cells=$(awk -F, 'NR > 1 { printf "%s%s:%s", (NR > 2 ? " " : ""), $4, $5 }' "$tmp/a.csv")
[ "$got_cells" = "$expected_cells" ] || fail "cells '$got_cells', expected '$expected_cells'"
awk -F, 'NR > 1 && !($1 == "model.safetensors" && $2 == "eps" && $3 == "linear" && $6 == 8 &&
         $7 > 0 && $7 <= 1 && $8 >= 0 && $8 <= 2.31 && $9 >= 1 && $9 <= 10 && $10 > 0 && $11 > 0 &&
         $12 >= 0) { print "bad row " NR ": " $0; bad = 1 } END { exit bad }' "$tmp/a.csv" ||
    fail "implausible values"
grep -q "FD / floor (floor FD [0-9.]* at n = 8)" "$tmp/a.out" || fail "no summary table with the floor at n = 8: $(cat "$tmp/a.out")"

# ---- determinism: eta = 0 twice in one run, and a second run ----------------------------
cut -d, -f1-11 "$tmp/a.csv" >"$tmp/a.cut"
[ "$(sed -n 2,3p "$tmp/a.cut")" = "$(sed -n 6,7p "$tmp/a.cut")" ] ||
    fail "the two eta=0 rows differ: $(sed -n '2,3p;6,7p' "$tmp/a.cut")"
# one step lands on x0 with no noise whatever eta; three steps with eta 0.5 add noise
[ "$(sed -n 2p "$tmp/a.cut" | cut -d, -f5-)" = "$(sed -n 4p "$tmp/a.cut" | cut -d, -f5-)" ] ||
    fail "a 1-step cell depends on eta"
[ "$(sed -n 3p "$tmp/a.cut" | cut -d, -f7-)" != "$(sed -n 5p "$tmp/a.cut" | cut -d, -f7-)" ] ||
    fail "eta 0.5 changed nothing at 3 steps"
# a second run of one cell, in batches of 2, scores the same
"$ddpm" sweep --threads 1 "$model" --eta 0 --steps 3 -n 3 --score-n 8 --batch 2 --quiet --out "$tmp/b.png" \
    --csv "$tmp/b-scores.csv" >"$tmp/b.out" 2>&1 || fail "second sweep failed: $(cat "$tmp/b.out")"
[ -s "$tmp/b-scores.csv" ] || fail "--csv was not honoured"
[ "$(sed -n 2p "$tmp/b-scores.csv" | cut -d, -f1-11)" = "$(sed -n 3p "$tmp/a.cut")" ] ||
    fail "a second run (another batch size) scores otherwise: $(sed -n 2p "$tmp/b-scores.csv")"
# and at 2 threads, the whole grid scores the same and draws the same PNG
"$ddpm" sweep --threads 2 "$model" --eta 0,0.5,0 --steps 1,3 -n 3 --score-n 8 --quiet --out "$tmp/c.png" \
    >"$tmp/c.out" 2>&1 || fail "sweep --threads 2 failed: $(cat "$tmp/c.out")"
[ "$(cut -d, -f1-11 "$tmp/c.csv")" = "$(cat "$tmp/a.cut")" ] ||
    fail "2 threads score otherwise: $(cat "$tmp/c.csv")"
cmp -s "$tmp/a.png" "$tmp/c.png" || fail "2 threads drew another PNG"

# ---- unscored sweeps: the same PNG twice; several checkpoints stack vertically --------
unscored() { "$ddpm" sweep --threads 1 "$@" --eta 0,0.5 --steps 1,3 -n 2 --score-n 0 --quiet; }
unscored "$model" --out "$tmp/c.png" >/dev/null 2>&1 || fail "unscored sweep"
unscored "$model" --batch 1 --out "$tmp/d.png" >/dev/null 2>&1 || fail "unscored sweep, batch 1"
cmp -s "$tmp/c.png" "$tmp/d.png" || fail "the same sweep gave another PNG"
awk -F, 'NR > 1 && !($6 == 0 && $7 == "" && $10 == "" && $11 == "" && $12 >= 0) { bad = 1 } END { exit bad }' \
    "$tmp/c.csv" || fail "unscored rows should leave the score fields empty: $(cat "$tmp/c.csv")"
unscored "$model" "$model" --out "$tmp/two.png" >/dev/null 2>&1 || fail "two-checkpoint sweep"
png_height() { od -An -tu1 -j 20 -N 4 "$1" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }'; }
[ "$(png_height "$tmp/two.png")" -eq $((2 * $(png_height "$tmp/c.png"))) ] ||
    fail "two sheets are $(png_height "$tmp/two.png") px tall, one is $(png_height "$tmp/c.png")"
# the lower sheet is drawn, not left black: it compresses no better than the upper one
[ "$(stat -c %s "$tmp/two.png")" -gt $((16 * $(stat -c %s "$tmp/c.png") / 10)) ] ||
    fail "two.png ($(stat -c %s "$tmp/two.png") bytes) is not about twice c.png ($(stat -c %s "$tmp/c.png"))"
[ "$(wc -l <"$tmp/two.csv")" -eq 9 ] || fail "two checkpoints x 4 cells should give 8 rows"

# ---- bad input: exit 2, a message naming the problem, nothing written -------------------
expect_bad() {
    local what="$1" needle="$2"
    shift 2
    rm -f "$tmp/bad.png" "$tmp/bad.csv"
    "$ddpm" sweep --threads 1 "$@" --quiet --out "$tmp/bad.png" >"$tmp/bad.out" 2>&1
    local rc=$?
    [ "$rc" -eq 2 ] || fail "$what: exit code $rc, expected 2: $(cat "$tmp/bad.out")"
    grep -q -- "$needle" "$tmp/bad.out" || fail "$what: message lacks '$needle': $(cat "$tmp/bad.out")"
    [ ! -e "$tmp/bad.png" ] && [ ! -e "$tmp/bad.csv" ] || fail "$what: files were written"
}
expect_bad "an empty eta list" "--eta" "$model" --eta ""
expect_bad "an empty eta item" "empty item" "$model" --eta 0,,1
expect_bad "a trailing comma" "empty item" "$model" --steps 10,
expect_bad "eta above 1" "outside \[0, 1\]" "$model" --eta 0,1.5
expect_bad "a negative eta" "outside \[0, 1\]" "$model" --eta -0.1
expect_bad "eta not a number" "not a number" "$model" --eta 0,abc
expect_bad "zero steps" "out of range" "$model" --steps 0,10
expect_bad "steps above T" "exceeds T = 1000" "$model" --steps 10,1001
expect_bad "fractional steps" "not an integer" "$model" --steps 2.5
expect_bad "no checkpoint" "at least one checkpoint"
expect_bad "a missing checkpoint" "nope.safetensors" "$tmp/nope.safetensors"
expect_bad "one scored sample" "score-n 1" "$model" --score-n 1
expect_bad "a missing classifier" "train-classifier" "$model" --eta 0 --steps 1 -n 2 --score-n 8 \
    --classifier "$tmp/none.safetensors"
echo "test_sweep: all checks passed"

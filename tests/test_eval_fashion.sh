#!/bin/bash
# test_eval_fashion.sh: `ddpm eval` follows the checkpoint's dataset: a model
# trained on Fashion-MNIST is scored with the Fashion-MNIST classifier against
# its own held-out statistics and floor, --data overrides, a digits model keeps
# the digits' classifier, and a missing classifier is exit 2 with the command
# that makes it.  Release build only (label no-asan): its reference is 10,000
# images, ~50 s under ASan for code test_eval.sh runs there on the digits.
# usage: test_eval_fashion.sh path/to/ddpm source-dir
name=test_eval_fashion
. "$(dirname "$0")/eval_common.sh"

# ---- the classifier follows the dataset: Fashion-MNIST ---------------------------------------------
# (./lab test installs Debian's dataset-fashion-mnist; test_dataset.c checks the loader without it)
if [ -d /usr/share/datasets/fashion-mnist ]; then
    "$ddpm" train --preset tiny --data fashion --steps 2 --batch 4 --threads 1 --sample-every 0 --quiet \
        --out "$tmp/frun" >"$tmp/ftrain.log" 2>&1 || fail "training on fashion: $(cat "$tmp/ftrain.log")"
    fmodel="$tmp/frun/model.safetensors"
    "$ddpm" eval --threads 1 --checkpoint "$fmodel" -n 8 --steps 2 --quiet >"$tmp/f.out" 2>&1 ||
        fail "eval of a fashion model: $(cat "$tmp/f.out")"
    grep -q "classifier-fashion.safetensors" "$tmp/f.out" && grep -q "^real fashion (floor)  *8 " "$tmp/f.out" &&
        grep -q "the 10000 held-out Fashion-MNIST images" "$tmp/f.out" ||
        fail "a fashion model is not scored with the fashion classifier and reference: $(cat "$tmp/f.out")"
    # real Fashion-MNIST is what its classifier is sure of; the digits' classifier is not
    "$ddpm" eval --threads 1 --checkpoint "$fmodel" -n 200 --steps 1 --quiet --csv >"$tmp/f.csv" 2>&1 ||
        fail "eval --csv of a fashion model: $(cat "$tmp/f.csv")"
    "$ddpm" eval --threads 1 --checkpoint "$fmodel" -n 200 --steps 1 --quiet --csv --data digits \
        >"$tmp/fd.csv" 2>&1 || fail "eval --data digits: $(cat "$tmp/fd.csv")"
    awk -F, 'NR == 3 && !($1 == "floor" && $3 > 0.85) { bad = 1 } END { exit bad }' "$tmp/f.csv" ||
        fail "the fashion classifier is not confident on real fashion: $(cat "$tmp/f.csv")"
    cmp -s "$tmp/f.csv" "$tmp/fd.csv" && fail "--data digits scored like fashion: $(cat "$tmp/fd.csv")"
    grep -q "^floor" "$tmp/fd.csv" || fail "--data digits: $(cat "$tmp/fd.csv")"
    # the digits' model keeps the digits' classifier
    "$ddpm" eval --threads 1 --checkpoint "$model" -n 4 --steps 1 --quiet >"$tmp/d.out" 2>&1 &&
        grep -q "assets/classifier.safetensors" "$tmp/d.out" && grep -q "^real digits (floor)" "$tmp/d.out" ||
        fail "a digits model is not scored with the digits classifier: $(cat "$tmp/d.out")"
    # without the fashion classifier: the message says how to make it
    mkdir -p "$tmp/assets" && cp -r "$src/assets/digits" "$tmp/assets/"
    export DDPM_ASSETS="$tmp/assets"
    expect_bad "no fashion classifier" "--train-classifier --data fashion" --checkpoint "$fmodel" -n 2 --steps 1
    unset DDPM_ASSETS
else
    echo "  /usr/share/datasets/fashion-mnist not installed: skipping the Fashion-MNIST checks"
fi
echo "test_eval_fashion: all checks passed"

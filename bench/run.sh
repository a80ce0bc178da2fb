#!/usr/bin/env bash
# bench/run.sh: builds ddpm-lab (Release) and prints the benchmark table of
# README.md's Performance section: tiny and small, 1 and 2 threads, against
# PyTorch CPU on the same weights.  Extra arguments go to `ddpm bench`
# (e.g. --preset small, --threads 4, --reps 10, --rounds 5).
# Needs Debian's python3-torch for the PyTorch columns; without it the C
# figures are still printed.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j"$(nproc)" --target ddpm conv_layers > /dev/null
exec ./build/ddpm bench --torch --reps 5 --rounds 3 "$@"

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
# OpenBLAS falls back to SSE3 kernels on CPU models it does not know (virtual
# machines); both sides then get the kernels the CPU's vector unit supports.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  hint=$(./build/ddpm bench --blas-hint)
  if [ -n "$hint" ]; then
    echo "bench/run.sh: OpenBLAS picked older kernels than this CPU has; OPENBLAS_CORETYPE=$hint" >&2
    export OPENBLAS_CORETYPE=$hint
  fi
fi
exec ./build/ddpm bench --torch --reps 5 --rounds 3 "$@"

#!/usr/bin/env bash
# ddp_speed.sh: training images per second of the scale-out path beside the C
# trainer, on this machine, in one run (they alternate, so both see the same
# machine): `ddpm train` at N threads, python/train_ddp.py as 1 process x N
# threads, and DDP as N processes x 1 thread (gloo).  Same preset, global
# batch 64, the bundled digits.  Prints a table; nothing here can fail a build.
#
#   bench/ddp_speed.sh [preset=small] [steps=150] [rounds=2]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-small} steps=${2:-150} rounds=${3:-2}
n=$(nproc)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
ddpm=./build/ddpm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the last loss.csv row's images/s, averaged over the run after its first 25 steps
rate() { awk -F, 'NR > 2 { s += $6; k++ } END { printf "%.0f", k ? s / k : 0 }' "$1/loss.csv"; }
best_c=0 best_p=0 best_d=0
for r in $(seq "$rounds"); do
    rm -rf "$tmp"/*
    "$ddpm" train --preset "$preset" --steps "$steps" --threads "$n" --log-every 25 --sample-every 0 --quiet \
        --out "$tmp/c" >/dev/null
    "$py" python/train_ddp.py --preset "$preset" --steps "$steps" --threads "$n" --log-every 25 --quiet \
        --device cpu --out "$tmp/p" >/dev/null
    "$py" python/torchrun.py --standalone --nproc_per_node="$n" python/train_ddp.py --preset "$preset" \
        --steps "$steps" --threads 1 --log-every 25 --quiet --device cpu --out "$tmp/d" >/dev/null 2>&1
    c=$(rate "$tmp/c") p=$(rate "$tmp/p") d=$(rate "$tmp/d")
    echo "round $r: C $c, PyTorch 1x$n $p, DDP ${n}x1 $d images/s"
    [ "$c" -gt "$best_c" ] && best_c=$c
    [ "$p" -gt "$best_p" ] && best_p=$p
    [ "$d" -gt "$best_d" ] && best_d=$d
done
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo
echo "preset $preset, batch 64, $steps steps, best of $rounds rounds; $cpu, $n cores"
printf "| trainer | images/s | vs C |\n|---|---|---|\n"
printf "| ddpm train, %d threads | %d | 1.00 |\n" "$n" "$best_c"
printf "| train_ddp.py, 1 process x %d threads | %d | %.2f |\n" "$n" "$best_p" "$(awk -v a="$best_p" -v b="$best_c" "BEGIN { print a / b }")"
printf "| train_ddp.py DDP, %d processes x 1 thread (gloo) | %d | %.2f |\n" "$n" "$best_d" "$(awk -v a="$best_d" -v b="$best_c" "BEGIN { print a / b }")"

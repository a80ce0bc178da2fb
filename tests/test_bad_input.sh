#!/usr/bin/env bash
# test_bad_input.sh: runs every row of tests/bad_input_table.txt: each hostile
# input must exit with code 2 and a message containing the expected phrase.
# Usage: test_bad_input.sh <ddpm> <source dir>
set -u
ddpm=$1
src=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

# ---- fixtures ----
idx_header() { # magic-hex n rows cols
  printf "$(printf '\\x%s' $(echo "$1" | sed 's/../& /g'))"
  for v in "${@:2}"; do printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((v>>24&255)) $((v>>16&255)) $((v>>8&255)) $((v&255)))"; done
}
mkdir -p "$T"/{empty,badmagic,swapped,overflow,truncated,notgzip,small14}
: > "$T/empty/train-images-idx3-ubyte"
{ idx_header 00000804 2 28 28; head -c 1568 /dev/zero; } > "$T/badmagic/train-images-idx3-ubyte"
{ idx_header 00000801 2; printf '\x01\x02'; } > "$T/swapped/train-images-idx3-ubyte"
{ idx_header 00000803 65536 65536 65536; } > "$T/overflow/train-images-idx3-ubyte"
{ idx_header 00000803 10 28 28; head -c 1000 /dev/zero; } > "$T/truncated/train-images-idx3-ubyte"
printf 'this is not gzip at all' > "$T/notgzip/train-images-idx3-ubyte.gz"
{ idx_header 00000803 3 14 14; head -c 588 /dev/zero; } > "$T/small14/train-images-idx3-ubyte"
{ idx_header 00000801 3; printf '\x01\x02\x03'; } > "$T/small14/train-labels-idx1-ubyte"
touch "$T/afile"
mkdir -p "$T/badfont" && printf '<html>404 Not Found</html>' > "$T/badfont/DejaVuSans.ttf"

"$ddpm" train --preset tiny --batch 2 --steps 2 --sample-every 0 --quiet --threads 1 --out "$T/run" 2>/dev/null \
  || { echo "FAIL: cannot train the fixture model" >&2; exit 1; }
M="$T/run/model.safetensors"
: > "$T/empty.safetensors"
head -c 4096 /dev/urandom > "$T/random.safetensors"
head -c 3000 "$M" > "$T/truncated.safetensors"
{ printf '\xff\xff\xff\xff\xff\xff\xff\x7f'; head -c 64 /dev/zero; } > "$T/hugeheader.safetensors"
mkdir -p "$T/exported" && cp "$M" "$T/exported/ckpt.safetensors"
# a foreign file, another config's tensors under this header, NaN weights: edit the header
python_free_edit() { # in out sed-expression (edits the JSON header in place, same length)
  local len
  len=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  { head -c $((8 + len)) "$1" | tail -c "$len" | sed "$3"; } > "$T/h.json"
  [ "$(stat -c %s "$T/h.json")" -eq "$len" ] || { echo "FAIL: header edit changed the length" >&2; exit 1; }
  { head -c 8 "$1"; cat "$T/h.json"; tail -c +$((9 + len)) "$1"; } > "$2"
}
python_free_edit "$M" "$T/foreign.safetensors" 's/"format":"ddpm-lab"/"format":"othr-lab"/'
cmp -s "$M" "$T/foreign.safetensors" && { echo "FAIL: the foreign fixture was not edited" >&2; exit 1; }
python_free_edit "$M" "$T/mismatch.safetensors" 's/base_channels\\":16/base_channels\\":24/'
cmp -s "$M" "$T/mismatch.safetensors" && { echo "FAIL: the mismatch fixture was not edited" >&2; exit 1; }
# NaN: overwrite the first float of the data with a quiet NaN
len=$(od -An -tu8 -N8 "$M" | tr -d ' ')
cp "$M" "$T/nan.safetensors"
printf '\x00\x00\xc0\x7f' | dd of="$T/nan.safetensors" bs=1 seek=$((8 + len)) conv=notrunc 2>/dev/null

# a NUL in a name: "\u0000" decodes to a C string cut short
python_free_edit "$M" "$T/nul.safetensors" 's/"format":"ddpm-lab"/"format":"\\u0000ab"/'
cmp -s "$M" "$T/nul.safetensors" && { echo "FAIL: the NUL fixture was not edited" >&2; exit 1; }
# a run to resume with flags that differ from it
mkdir -p "$T/resumable" && cp "$T/run/ckpt.safetensors" "$T/resumable/ckpt.safetensors"
# a finite weight no training reaches: 3e38 (f32 0x7f61b1e6) as the first float
cp "$M" "$T/huge.safetensors"
printf '\xe6\xb1\x61\x7f' | dd of="$T/huge.safetensors" bs=1 seek=$((8 + len)) conv=notrunc 2>/dev/null
# FIFOs where a file is read: a reader that opens one blocks forever
mkfifo "$T/fifo.safetensors"
mkdir -p "$T/fifofont"
mkfifo "$T/fifofont/DejaVuSans.ttf"
mkfifo "$T/fifo.png"
printf 'not a picture\n' > "$T/notpng.png"
head -c 40 "$src/tests/fuzz/corpus/png/gray8x8.png" > "$T/cutpng.png"
# an output that is the input, through a symlink
ln -s "$M" "$T/link.png"
# a folder that holds a model, and no run
mkdir -p "$T/hasmodel"
cp "$M" "$T/hasmodel/model.safetensors"

# ---- the table ----
viz=1
"$ddpm" viz --help > /dev/null 2>&1 || viz=0   # a build without the UI
rows=0
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  name=$(echo "$line" | awk -F' [|] ' '{print $1}' | sed 's/ *$//')
  want=$(echo "$line" | awk -F' [|] ' '{print $2}' | sed 's/ *$//')
  args=$(echo "$line" | awk -F' [|] ' '{print $3}')
  code=$(echo "$line" | awk -F' [|] ' '{print $4}' | tr -d ' ')
  code=${code:-2}
  case "$args" in viz*) [ $viz -eq 1 ] || continue ;; esac
  args=${args//\$T/$T}
  args=${args//\$M/$M}
  # shellcheck disable=SC2086
  timeout 60 "$ddpm" $args > /dev/null 2> "$T/err" < /dev/null
  rc=$?
  rows=$((rows + 1))
  if [ $rc -ne "$code" ] || ! grep -qF -- "$want" "$T/err"; then
    echo "FAIL: $name: exit $rc, expected $code and '$want'; said: $(head -c 400 "$T/err")" >&2
    fail=1
  else
    printf '%-26s -> %s\n' "$name" "$(head -n 1 "$T/err" | cut -c1-150)"
  fi
done < "$src/tests/bad_input_table.txt"
[ $rows -ge 30 ] || { echo "FAIL: only $rows rows ran" >&2; exit 1; }

# ---- a memory limit (ulimit -v): a message and exit 2, or a result; never a
# hang (OpenBLAS retries a failed buffer allocation forever).  Not under
# ASan, whose shadow memory needs terabytes of address space.
if [ -z "${ASAN_OPTIONS:-}" ]; then
  (ulimit -v 200000; timeout -s KILL 60 "$ddpm" sample "$M" --steps 2 -n 1 --out "$T/ul.png" > /dev/null 2> "$T/err")
  rc=$?
  if [ $rc -ne 2 ] || ! grep -qF "memory limit" "$T/err"; then
    echo "FAIL: sample under ulimit -v 200000: exit $rc; said: $(head -c 300 "$T/err")" >&2; fail=1
  else printf '%-26s -> %s\n' "ulimit -v 200 MB" "$(head -n 1 "$T/err" | cut -c1-150)"; fi
  # a 2 GiB file whose header is garbage: refused from its header, before 2 GiB are read
  # (reading it whole first fails on the memory limit instead)
  { printf '\x10\x00\x00\x00\x00\x00\x00\x00'; printf 'this is not JSON'; } > "$T/big.safetensors"
  truncate -s $((2 * 1024 * 1024 * 1024 - 1)) "$T/big.safetensors"
  (ulimit -v 600000; timeout -s KILL 60 "$ddpm" sample "$T/big.safetensors" --steps 2 -n 1 --out "$T/ul.png" > /dev/null 2> "$T/err")
  rc=$?
  if [ $rc -ne 2 ] || ! grep -qF "not valid JSON" "$T/err"; then
    echo "FAIL: a 2 GiB file with a bad header: exit $rc; said: $(head -c 300 "$T/err")" >&2; fail=1
  else printf '%-26s -> %s\n' "2 GiB, bad header" "$(head -n 1 "$T/err" | cut -c1-150)"; fi
  rm -f "$T/big.safetensors"
  for cmd in "sample $M --steps 2 -n 1 --out $T/ul.png" "train --preset tiny --steps 2 --batch 4 --sample-every 0 --force --out $T/ulrun"; do
    # shellcheck disable=SC2086
    (ulimit -v 350000; timeout -s KILL 120 "$ddpm" $cmd > /dev/null 2> "$T/err")
    rc=$?
    if [ $rc -ne 0 ]; then
      echo "FAIL: '${cmd%% *}' under ulimit -v 350000: exit $rc; said: $(head -c 300 "$T/err")" >&2; fail=1
    else printf '%-26s -> %s\n' "ulimit -v 350 MB ${cmd%% *}" "ran (exit 0)"; fi
  done
fi
[ $fail -eq 0 ] || exit 1
echo "test_bad_input: all $rows rows passed"

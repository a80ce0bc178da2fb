#!/usr/bin/env bash
# test_viz_replay.sh: `ddpm viz --replay FILE --screenshot PNG` (issue 20):
#  - a recording (written by hand here, in the format --record writes) that
#    switches to the grid, sets eta 1, trains live for a few frames (T) and
#    steps the playhead, replayed twice, gives byte-identical PNGs;
#  - a bookmark line (what Ctrl+N keeps) is --set text: the state line of a
#    recording;
#  - bad input exits 2 with a message: not a recording, a bad line, --set
#    with --replay, --size that differs from the recording's, --record over
#    an existing file without --force.
# Usage: test_viz_replay.sh <ddpm> <source dir>
set -u
ddpm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# SDL keycodes: g 103, e 101, t 116, Right 1073741903, End 1073741901
{
  echo "ddpm-viz-recording 1"
  echo "size 1024 768"
  echo "state world=images,mode=single,eta=0,steps=20,seed=3,model=eps-linear,frame=0,play=0,lecture=0,controls=1"
  for i in $(seq 1 40); do
    echo "f 0.016666666666666666"
    case $i in
      3) echo "k 103 0 0" ;;
      5) echo "k 101 0 0" ;;
      8) echo "k 116 0 0" ;;
      9) echo "s 0" ;;
      12) echo "s 4" ;;
      20) echo "s 9"; echo "k 116 0 0" ;;
      22) echo "k 1073741903 0 0"; echo "k 1073741903 0 0" ;;
      30) echo "m 500 300"; echo "w 1" ;;
      35) echo "k 1073741901 0 0" ;;
    esac
  done
} > "$tmp/rec.txt"

for r in 1 2; do
  "$ddpm" viz --replay "$tmp/rec.txt" --screenshot "$tmp/r$r.png" --export-dir "$tmp/x" --train-batch 4 \
    > "$tmp/log$r" 2>&1 || { cat "$tmp/log$r" >&2; fail "replay $r"; }
done
[ -s "$tmp/r1.png" ] || fail "no screenshot"
cmp -s "$tmp/r1.png" "$tmp/r2.png" || fail "two replays differ"
grep -q "the live training at step 9$" "$tmp/log1" || { cat "$tmp/log1" >&2; fail "the replay did not train the recorded 9 steps"; }

expect_bad() { # what, message regex, args...
  local what=$1 re=$2
  shift 2
  "$ddpm" viz "$@" > "$tmp/out" 2>&1
  local rc=$?
  [ $rc -eq 2 ] || { cat "$tmp/out" >&2; fail "$what: exit $rc, expected 2"; }
  grep -Eq "$re" "$tmp/out" || { cat "$tmp/out" >&2; fail "$what: no message matching '$re'"; }
}
echo "hello" > "$tmp/junk.txt"
expect_bad "not a recording" "not a ddpm viz recording" --replay "$tmp/junk.txt" --screenshot "$tmp/j.png"
{ head -3 "$tmp/rec.txt"; echo "f 0.01"; echo "k nine"; } > "$tmp/bad.txt"
expect_bad "a bad line" "line 5" --replay "$tmp/bad.txt" --screenshot "$tmp/j.png"
printf 'ddpm-viz-recording 1\nsize 1024 768\n' > "$tmp/nostate.txt"
expect_bad "no state line" "no 'size' or 'state'" --replay "$tmp/nostate.txt" --screenshot "$tmp/j.png"
expect_bad "--set with --replay" "own settings" --replay "$tmp/rec.txt" --set eta=1 --screenshot "$tmp/j.png"
expect_bad "another size" "recorded at 1024x768" --replay "$tmp/rec.txt" --size 1280x720 --screenshot "$tmp/j.png"
expect_bad "a missing recording" "replay" --replay "$tmp/none.txt" --screenshot "$tmp/j.png"
mkfifo "$tmp/fifo"
expect_bad "a FIFO" "replay" --replay "$tmp/fifo" --screenshot "$tmp/j.png"
expect_bad "--record over a file" "exists.*--force" --record "$tmp/rec.txt" --screenshot "$tmp/j.png"
[ ! -e "$tmp/j.png" ] || fail "a refused command wrote its screenshot"
echo "test_viz_replay: all checks passed"

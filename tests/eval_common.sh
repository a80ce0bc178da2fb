# eval_common.sh: what test_eval.sh and test_eval_fashion.sh share (sourced,
# not a test): the arguments, a scratch folder, fail, expect_bad, and a tiny
# digits model in $model.  The sourcing script sets $name first.
set -u
ddpm="$1"
src="$2"
tmp=$(mktemp -d "/tmp/ddpm_${name}_XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# expect_bad WHAT NEEDLE ARGS...: `ddpm eval ARGS` exits 2 with NEEDLE in its message
expect_bad() {
    local what="$1" needle="$2"
    shift 2
    "$ddpm" eval --threads 1 "$@" >"$tmp/bad.out" 2>&1
    local rc=$?
    [ "$rc" -eq 2 ] || fail "$what: exit code $rc, expected 2: $(cat "$tmp/bad.out")"
    grep -q -- "$needle" "$tmp/bad.out" || fail "$what: message lacks '$needle': $(cat "$tmp/bad.out")"
}

"$ddpm" train --preset tiny --steps 3 --batch 4 --threads 1 --preview-steps 1 --sample-every 0 --quiet \
    --out "$tmp/run" >"$tmp/train.log" 2>&1 || fail "training the test model: $(cat "$tmp/train.log")"
model="$tmp/run/model.safetensors"

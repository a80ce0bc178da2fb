# bench/xvfb.sh: sourced by the benchmarks that need a real window.
# need_display: keeps $DISPLAY, or starts a private Xvfb server (1600x900) and
# exports its DISPLAY; the caller's EXIT trap kills "$xvfb".  Returns 1 when
# there is neither a display nor Xvfb.
need_display() {
  [ -n "${DISPLAY:-}" ] && return 0
  command -v Xvfb > /dev/null || return 1
  local n
  for n in $(seq 90 120); do [ -e "/tmp/.X11-unix/X$n" ] || break; done
  Xvfb ":$n" -screen 0 1600x900x24 > /dev/null 2>&1 &
  xvfb=$!
  export DISPLAY=":$n"
  sleep 2
}

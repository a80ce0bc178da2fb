#!/usr/bin/env bash
# test_ui_soak.sh: the 40-second version of tests/soak_viz.sh for CI (it was 60 s;
# the 15 minutes of CI are short, and tests/soak_viz.sh runs 10 minutes by hand).
exec bash "$2/tests/soak_viz.sh" "$1" "${DDPM_SOAK_SECONDS:-40}"

#!/usr/bin/env bash
# test_ui_soak.sh: the 60-second version of tests/soak_viz.sh for CI.
exec bash "$2/tests/soak_viz.sh" "$1" "${DDPM_SOAK_SECONDS:-60}"

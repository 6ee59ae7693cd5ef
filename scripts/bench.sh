#!/usr/bin/env bash
# Launch and idle benchmark of the release app under a virtual display (prints figures;
# not part of the test command). TSUNAGI_BENCH_RUNS / TSUNAGI_BENCH_IDLE_SECS override.
source "$(dirname "$0")/lib.sh"

apt_install "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_rust
ensure_node
ui_deps
ui_build
step "cargo bench --bench launch (release build)"
cargo bench --locked -p tsunagi --bench launch

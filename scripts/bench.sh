#!/usr/bin/env bash
# Benchmarks (print figures; not part of the test command): launch and idle of the release
# app under a virtual display, and pulling a 300-appointment day from hfs. TSUNAGI_BENCH_RUNS / TSUNAGI_BENCH_IDLE_SECS override.
source "$(dirname "$0")/lib.sh"

apt_install "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_rust
ensure_node
ui_deps
ui_build
step "cargo bench --bench launch (release build)"
cargo bench --locked -p tsunagi --bench launch
ensure_hfs
step "cargo bench --bench fhir_pull (300 appointments from hfs on loopback)"
cargo bench --locked -p tsunagi-core --bench fhir_pull

#!/usr/bin/env bash
# Benchmarks (print figures; not part of the test command): launch and idle of the release
# app under a virtual display, pulling a 300-appointment day from hfs, draining 300 and
# 3,000 ops into hfs, desks sharing an outage on a LAN, and the monitor's
# detection, recovery, loss, a slow line and idle traffic in network namespaces (needs root).
# TSUNAGI_BENCH_RUNS / _IDLE_SECS / _AFTER_HIDE_SECS / _TRIALS / _LOSS_SECS / _DELAY_SECS override.
source "$(dirname "$0")/lib.sh"

apt_install "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_rust
ensure_node
ui_deps
ui_build
step "cargo bench --bench launch (release build; with the tray process and the CLI beside it)"
cargo build --locked --release -p tsunagi-tray -p tsunagi-core --bin tsunagi-tray --bin tsunagi-cli
cargo bench --locked -p tsunagi --bench launch
ensure_hfs
step "cargo bench --bench fhir_pull (300 appointments from hfs on loopback)"
cargo bench --locked -p tsunagi-core --bench fhir_pull
step "cargo bench --bench sync_drain (300 and 3,000 ops into hfs on loopback)"
cargo bench --locked -p tsunagi-core --bench sync_drain
step "cargo bench --bench desks (two desks on a LAN in network namespaces; about 2 minutes)"
cargo bench --locked -p tsunagi-core --bench desks
step "cargo bench --bench monitor (network namespaces; about 35 minutes)"
cargo bench --locked -p tsunagi-core --bench monitor

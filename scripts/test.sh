#!/usr/bin/env bash
# Set everything up and run every test: formatting, lints, the UI's type check and unit
# tests, the Rust tests of the whole workspace (real SQLCipher files, a real Secret Service
# in private gnome-keyring sessions) and the end-to-end test through the real window.
source "$(dirname "$0")/lib.sh"

apt_install "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_rust
ensure_node
ensure_ja_locale
ensure_tauri_driver
ensure_hfs
ui_deps

# Tests start daemons (Xvfb, dbus-daemon, gnome-keyring, tauri-driver, the app). They stop
# them themselves; this catches anything left when a run is interrupted.
run_isolated() {
  setsid -w "$@" &
  local pid=$!
  trap 'kill -TERM -- -'"$pid"' 2>/dev/null; sleep 2; kill -KILL -- -'"$pid"' 2>/dev/null || true' EXIT INT TERM
  local rc=0
  wait "$pid" || rc=$?
  kill -TERM -- -"$pid" 2>/dev/null && sleep 1 && kill -KILL -- -"$pid" 2>/dev/null || true
  trap - EXIT INT TERM
  return "$rc"
}

step "cargo fmt --check"
cargo fmt --all -- --check

step "UI: type check (svelte-check, TypeScript strict)"
(cd ui && npm run --silent check)
step "UI: unit tests (vitest)"
(cd ui && npm run --silent test)
ui_build

step "cargo clippy (warnings are errors)"
cargo clippy --locked --workspace --all-targets -- -D warnings

step "cargo test --workspace (includes the end-to-end test in a real window)"
run_isolated cargo test --locked --workspace

step "All tests passed"

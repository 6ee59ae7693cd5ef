#!/usr/bin/env bash
# Fuzz the FHIR Bundle parser and the CSV importer for a bounded time each (not part of CI).
# Usage: scripts/fuzz.sh [seconds per target, default 120]
source "$(dirname "$0")/lib.sh"

seconds=${1:-120}
ensure_rust
apt_install build-essential
if [ ! -x "$TOOLS/bin/cargo-fuzz" ]; then
  step "Installing cargo-fuzz into $TOOLS"
  cargo install cargo-fuzz --locked --root "$TOOLS"
fi
# cargo-fuzz passes sanitizer flags that need a nightly compiler; the stable toolchain
# accepts them with RUSTC_BOOTSTRAP (this machine has no other toolchain).
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=$CACHE/fuzz-target
cd "$ROOT/fuzz"
for target in fhir_search_page csv_import; do
  step "Fuzzing $target for $seconds s"
  cargo fuzz run "$target" -- -max_total_time="$seconds" -max_len=65536
done
step "No crashes"

#!/usr/bin/env bash
# Run by `tauri build` before bundling (tauri.conf.json beforeBundleCommand): build the
# release tsunagi-cli and tsunagi-tray and put them where the Linux packages pick them up
# (/usr/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p tsunagi-core -p tsunagi-tray --bin tsunagi-cli --bin tsunagi-tray
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
mkdir -p .bundle
cp "$target/release/tsunagi-cli" .bundle/tsunagi-cli
cp "$target/release/tsunagi-tray" .bundle/tsunagi-tray

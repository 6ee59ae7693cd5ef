#!/usr/bin/env bash
# Run by `tauri build` before bundling (tauri.conf.json beforeBundleCommand): build the
# release tsunagi-cli and put it where the Linux packages pick it up (/usr/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p tsunagi-core --bin tsunagi-cli
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
mkdir -p .bundle
cp "$target/release/tsunagi-cli" .bundle/tsunagi-cli

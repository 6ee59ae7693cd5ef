#!/usr/bin/env bash
# Build the programs an installer carries beside the app, tsunagi-tray (the tray process,
# issue 18) and tsunagi-cli (the IT helper's), and put them where Tauri's bundler takes
# them from:
# - `.bundle/<program>`: the Debian package's /usr/bin (tauri.conf.json, deb `files`);
# - `.bundle/<program>-<target triple>[.exe]`: Windows and macOS (tauri.windows.conf.json,
#   tauri.macos.conf.json, `externalBin`), installed beside the app, where it looks for
#   tsunagi-tray.
#
# `tauri build` runs it: before the app is built on Windows and macOS (beforeBuildCommand:
# Tauri's build script copies the `externalBin` programs beside the app on every build and
# stops with "... is not a file" when they are not staged), before bundling everywhere
# (beforeBundleCommand). scripts/run.sh runs it on Windows and macOS too.
#
# It reads what `tauri build` says of the build: TAURI_ENV_TARGET_TRIPLE (another target;
# universal-apple-darwin builds both Macs and joins them with lipo) and TAURI_ENV_DEBUG
# (`tauri build --debug`). Usage: scripts/stage-programs.sh [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
if [ "${1:-}" = "--debug" ] || [ "${TAURI_ENV_DEBUG:-false}" = "true" ]; then
  profile=debug
fi
host=$(rustc -vV | sed -n 's/^host: //p')
triple=${TAURI_ENV_TARGET_TRIPLE:-$host}
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
exe=
case $triple in *windows*) exe=.exe ;; esac
programs=(tsunagi-tray tsunagi-cli)

# Build the programs for one target; prints the folder cargo put them in.
build() {
  local t=$1 flags=(--locked -p tsunagi-tray -p tsunagi-core --bin tsunagi-tray --bin tsunagi-cli)
  [ "$profile" = release ] && flags+=(--release)
  if [ "$t" = "$host" ]; then
    cargo build "${flags[@]}" >&2
    echo "$target_dir/$profile"
  else
    cargo build "${flags[@]}" --target "$t" >&2
    echo "$target_dir/$t/$profile"
  fi
}

mkdir -p .bundle
if [ "$triple" = universal-apple-darwin ]; then
  arm=$(build aarch64-apple-darwin)
  intel=$(build x86_64-apple-darwin)
  for p in "${programs[@]}"; do
    lipo -create -output ".bundle/$p-$triple" "$arm/$p" "$intel/$p"
    cp ".bundle/$p-$triple" ".bundle/$p"
  done
else
  built=$(build "$triple")
  for p in "${programs[@]}"; do
    cp "$built/$p$exe" ".bundle/$p-$triple$exe"
    cp "$built/$p$exe" ".bundle/$p$exe"
  done
fi
echo "staged in .bundle ($profile, $triple): ${programs[*]}"

#!/usr/bin/env bash
# Regenerate icons/ from the SVG sources in icons/src (needs rsvg-convert from librsvg2-bin
# and ui/node_modules for the Tauri CLI). The generated files are committed; normal builds
# do not run this.
set -euo pipefail
cd "$(dirname "$0")/.."
rsvg-convert -w 1024 -h 1024 icons/src/app.svg -o icons/src/app.png
for state in online degraded offline; do
  rsvg-convert -w 64 -h 64 "icons/src/tray-$state.svg" -o "icons/tray-$state.png"
done
ui/node_modules/.bin/tauri icon icons/src/app.png -o icons
rm -rf icons/android icons/ios

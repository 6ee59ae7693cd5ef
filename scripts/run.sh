#!/usr/bin/env bash
# Set everything up and start Tsunagi (the demo clinic until an upstream is configured).
# Usage: scripts/run.sh [arguments, e.g. --data-dir DIR]
# Starts the tray process (tsunagi-tray: the runtime and the tray icon, no web engine),
# which opens the window (the app, tsunagi) now and whenever it is needed.
source "$(dirname "$0")/lib.sh"

apt_install "${BUILD_PACKAGES[@]}"
ensure_rust
ensure_node
ui_deps
ui_build
step "Building Tsunagi (release; the first build takes a few minutes)"
# On Windows and macOS the app's build copies tsunagi-tray and tsunagi-cli beside it
# (Tauri's externalBin): they are built and staged first.
[ "$(uname)" = Linux ] || "$ROOT/scripts/stage-programs.sh"
cargo build --release --locked -p tsunagi -p tsunagi-core -p tsunagi-tray --bins
app=$CARGO_TARGET_DIR/release/tsunagi-tray
echo "Tsunagi: $app (the window: $CARGO_TARGET_DIR/release/tsunagi)"
echo "CLI:     $CARGO_TARGET_DIR/release/tsunagi-cli"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" != "Linux" ]; then
  step "Starting Tsunagi"
  exec "$app" "$@"
fi

# No desktop here (SSH, a server, CI): run on a virtual display with its own session bus
# and keyring, and save a screenshot so you can see it.
step "No display found: starting Tsunagi on a virtual display"
shot=${TSUNAGI_SCREENSHOT:-$CACHE/screenshot.png}
export TSUNAGI_HEADLESS_SHOT=$shot
exec dbus-run-session -- bash -c '
  set -euo pipefail
  echo -n tsunagi | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  # Xvfb picks a free display itself and writes its number to stdout.
  displayfile=$(mktemp) app=
  Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp -noreset >"$displayfile" 2>/dev/null & xvfb=$!
  trap "kill \$app \$xvfb 2>/dev/null; rm -f $displayfile; wait" EXIT INT TERM
  for _ in $(seq 1 50); do [ -s "$displayfile" ] && break; sleep 0.1; done
  n=$(head -1 "$displayfile")
  DISPLAY=:$n "$0" "$@" & app=$!
  sleep 8
  DISPLAY=:$n import -window root "$TSUNAGI_HEADLESS_SHOT" 2>/dev/null &&
    echo "Screenshot of the window: $TSUNAGI_HEADLESS_SHOT"
  echo "Tsunagi is running on virtual display :$n (Ctrl-C to stop)."
  wait $app
' "$app" "$@"

# Shared by scripts/run.sh and scripts/test.sh: install what is missing, nothing more.
# Build caches and tools live outside the clone (~/.cache/tsunagi) so later runs are fast.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${TSUNAGI_CACHE:-$HOME/.cache/tsunagi}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/target}
TOOLS=$CACHE/tools
export PATH=$TOOLS/bin:$HOME/.cargo/bin:$PATH

# What Tauri needs to build and run on Debian/Ubuntu, and a Japanese font to read the UI.
BUILD_PACKAGES=(build-essential pkg-config curl wget file libwebkit2gtk-4.1-dev libxdo-dev
  libssl-dev libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev fonts-noto-cjk
  gnome-keyring dbus-x11 xvfb xauth)
# What the tests drive: a virtual display, a private keyring, WebKit's WebDriver, and a
# window manager with a taskbar for the screenshots of a desk's 1366×768 screen, and the
# Japanese locale a reception PC runs in (see ensure_ja_locale).
TEST_PACKAGES=(imagemagick webkit2gtk-driver dbus libsecret-tools keyutils at-spi2-core
  nftables iproute2 icewm locales tcpdump faketime)

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

apt_install() {
  command -v apt-get >/dev/null 2>&1 || {
    echo "No apt-get here: install the prerequisites listed in README.md by hand."
    return 0
  }
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { echo "system packages: all present"; return 0; }
  step "Installing system packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
}

ensure_rust() {
  command -v cargo >/dev/null 2>&1 ||
    die "Rust is not installed. Install it with rustup (https://rustup.rs), then run this again."
  # The oldest Rust the workspace builds with is the one Cargo.toml names (rust-version).
  local minor needed
  minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
  needed=$(sed -nE 's/^rust-version = "1\.([0-9]+)".*/\1/p' "$ROOT/Cargo.toml")
  [ "$minor" -ge "$needed" ] ||
    die "Rust 1.$needed or newer is needed (have $(rustc --version)); run: rustup update"
}

ensure_node() {
  if ! command -v node >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  command -v node >/dev/null 2>&1 || die "Node.js 18 or newer is needed (https://nodejs.org)."
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 18 ] || die "Node.js 18 or newer is needed (have $(node --version))."
}

ui_deps() {
  step "UI dependencies (npm ci)"
  (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
}

ui_build() {
  step "Building the UI"
  (cd "$ROOT/ui" && npm run --silent build)
}

# The window tests run the app with LANG=ja_JP.UTF-8, as on a Japanese desk. Without the
# locale compiled GTK and WebKit quietly fall back to C (dates as 12/03/2026, 11:50 AM)
# and miss what only a Japanese locale does (issue 20: GTK's own choice of input method
# froze the window).
ensure_ja_locale() {
  locale -a 2>/dev/null | grep -qix 'ja_JP.utf8' && return 0
  step "Compiling the ja_JP.UTF-8 locale"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" localedef -i ja_JP -f UTF-8 ja_JP.UTF-8
}

ensure_tauri_driver() {
  if [ ! -x "$TOOLS/bin/tauri-driver" ]; then
    step "Installing tauri-driver into $TOOLS"
    cargo install tauri-driver --version 2.1.0 --locked --root "$TOOLS"
  fi
}

# The Helios FHIR server for the upstream tests: built once per machine (about 28 minutes
# on 2 cores), kept in the cache, reused by every later run.
HFS_VERSION=0.2.7
ensure_hfs() {
  local bin=$CACHE/hfs/bin/hfs
  if [ -x "$bin" ] && [ "$(cat "$CACHE/hfs/version" 2>/dev/null)" = "$HFS_VERSION" ]; then
    return 0
  fi
  step "Installing the Helios FHIR server $HFS_VERSION into $CACHE/hfs (once; about 28 minutes)"
  CARGO_TARGET_DIR=$CACHE/hfs-build cargo install helios-hfs --version "$HFS_VERSION" --locked \
    --no-default-features --features R4,sqlite --root "$CACHE/hfs"
  echo "$HFS_VERSION" > "$CACHE/hfs/version"
  rm -rf "$CACHE/hfs-build"
}

cd "$ROOT"

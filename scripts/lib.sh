# Shared by run.sh and test.sh: installing what Switchboard needs on a fresh Debian machine.
# shellcheck shell=bash

say() { printf '\n==> %s\n' "$*"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

need_cargo() {
  command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
}

# What the desktop app builds against: WebKitGTK (the window) and the tray's indicator library.
desktop_build_deps() {
  apt_install pkg-config libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev
}

# Fonts for customers' words in every script and their emoji (the `.deb` recommends the same
# packages): without them WebKit draws Devanagari, Thai, Tamil, Hangul and emoji as boxes.
desktop_fonts() {
  apt_install fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji
}

# Node.js 20.19+ for the front end's tools (Vite 8).
need_node() {
  if ! command -v node >/dev/null; then apt_install nodejs npm; fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || { echo "Node.js 20 or newer is required (found $(node --version))"; exit 1; }
}

# The front end's packages at the versions package-lock.json pins, and its build (ui/dist,
# which the app embeds). `npm install`, not `npm ci`: npm leaves the Tauri CLI's packages for
# other platforms out of the lock file, and `npm ci` then refuses it as out of sync.
ui_build() {
  need_node
  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    say "npm install (ui)"
    (cd ui && npm install --no-audit --no-fund --loglevel=error)
  fi
  say "building the front end"
  (cd ui && npm run --silent build)
}

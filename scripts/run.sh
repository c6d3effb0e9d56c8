#!/usr/bin/env bash
# Opens the Switchboard desktop console on the local demo: the hub runs inside the app on
# loopback with a seeded workspace (customers on every channel) and simulated customers who
# keep writing; you are signed in as Maya, an agent. `--as priya@northwind.example` signs in
# as the team lead instead. Installs what the build needs when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
need_cargo
desktop_build_deps
desktop_fonts
ui_build
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: run this in a desktop session (or under xvfb-run)." >&2
  exit 1
fi
say "building and starting the console (the first build takes a few minutes)"
exec cargo run --release --locked -p switchboard -- --demo "$@"

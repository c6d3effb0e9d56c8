#!/usr/bin/env bash
# Runs Switchboard on the local demo workspace: a hub on 127.0.0.1:8080 seeded with customers
# across every channel and a simulator that keeps writing. Extra arguments go to `demo`
# (for example --fresh to start over, --listen 127.0.0.1:9000).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
exec cargo run --release --locked -p switchboard-hub -- demo "$@"

#!/usr/bin/env bash
# Regenerates the UI test double's answer tables (ui/src/dev/fixtures/*.json) from the real
# console core: crates/core/tests/ui_fixtures.rs with SWITCHBOARD_WRITE_FIXTURES=1. Run it
# after changing a rule of the core, and commit the files it changes with that change.
set -euo pipefail
cd "$(dirname "$0")/.."
SWITCHBOARD_WRITE_FIXTURES=1 cargo test -p switchboard-core --test ui_fixtures "$@"
git status --short ui/src/dev/fixtures

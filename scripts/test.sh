#!/usr/bin/env bash
# Runs every check and test of Switchboard, installing what it needs on a fresh Debian machine:
# rustfmt, clippy, the front end's typecheck and tests, all Rust tests (SQLite, a real
# PostgreSQL, the web-chat widget in a real headless Chromium, the desktop app end to end
# through tauri-driver under Xvfb with a private D-Bus session, object storage against a
# real S3-compatible server) and smoke runs of the benchmarks.
#
# PostgreSQL: uses $SWITCHBOARD_TEST_PG (default postgres://postgres@127.0.0.1:5432/test) when it
# answers; otherwise installs Debian's postgresql and runs a private server on a free port in a
# temporary directory for the length of the run.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh

need_cargo
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

export SWITCHBOARD_TEST_PG="${SWITCHBOARD_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
pg_answers() { command -v psql >/dev/null && psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }

PG_AS=()
start_private_postgres() {
  apt_install postgresql
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  # PostgreSQL refuses to run as root: the server runs as the postgres user.
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    PG_AS=(runuser -u postgres --)
  fi
  PG_DIR=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
  [ "$(id -u)" -ne 0 ] || chown postgres "$PG_DIR"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust >/dev/null
  # TLS on, with a certificate for localhost from a throwaway authority (named in
  # ssl_ca_file), as the TLS tests expect of the server.
  apt_install openssl
  (
    cd "$PG_DIR"
    openssl req -new -x509 -days 2 -nodes -subj /CN=switchboard-test-ca -keyout ca.key -out ca.crt
    openssl req -new -nodes -subj /CN=localhost -keyout server.key -out server.csr
    printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
      -out server.crt
  ) 2>/dev/null
  chmod 600 "$PG_DIR/server.key"
  [ "$(id -u)" -ne 0 ] || chown postgres "$PG_DIR/server.key" "$PG_DIR/server.crt" "$PG_DIR/ca.crt"
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$PG_DIR/server.crt -c ssl_key_file=$PG_DIR/server.key -c ssl_ca_file=$PG_DIR/ca.crt" \
    start >/dev/null
  trap 'stop_private_postgres' EXIT
  "${PG_AS[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qc 'CREATE DATABASE test' >/dev/null
  export SWITCHBOARD_TEST_PG="postgres://postgres@127.0.0.1:$port/test"
}

stop_private_postgres() {
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}

say "PostgreSQL for the tests"
command -v psql >/dev/null || apt_install postgresql-client
# The chaos run starts (and restarts) a server of its own, from the server's programs.
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || apt_install postgresql
if pg_answers "$SWITCHBOARD_TEST_PG"; then
  echo "using $SWITCHBOARD_TEST_PG"
else
  echo "$SWITCHBOARD_TEST_PG does not answer; starting a private server"
  start_private_postgres
  echo "using $SWITCHBOARD_TEST_PG"
fi

say "Chromium for the web-chat widget's browser test"
apt_install chromium chromium-driver

say "HAProxy in front of several hubs for the scale run"
apt_install haproxy

say "the desktop app's build and end-to-end tools"
desktop_build_deps
desktop_fonts
apt_install xvfb xauth dbus-x11 webkit2gtk-driver gnome-keyring libsecret-tools
if ! command -v tauri-driver >/dev/null && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  say "cargo install tauri-driver"
  cargo install tauri-driver --version '^2' --locked --quiet
fi

ui_build
say "an S3-compatible server for the object-storage tests (npm)"
(cd crates/testkit/s3 && npm ci --no-audit --no-fund --silent)

say "front end: typecheck and tests"
(cd ui && npm run --silent check && npm test --silent)

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "module layering: no crate's modules import each other in a circle"
cargo run --quiet --locked -p switchboard-testkit --bin module-cycles -- crates/core crates/hub crates/protocol src-tauri

say "cargo test"
cargo test --workspace --locked

say "the OpenAPI description, checked by an independent validator (openapi-spec-validator)"
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/switchboard/venv"
[ -x "$VENV/bin/openapi-spec-validator" ] || {
  python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet openapi-spec-validator
}
SPEC=$(mktemp --suffix=.json)
cargo run --quiet --locked -p switchboard-hub -- openapi >"$SPEC"
"$VENV/bin/openapi-spec-validator" "$SPEC"
rm -f "$SPEC"

say "the every-OS workflow (GitHub Actions' schema) and the updater's release manifest"
[ -x "$VENV/bin/check-jsonschema" ] || "$VENV/bin/pip" install --quiet check-jsonschema
"$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
python3 scripts/release_manifest.py --test

say "benchmark smoke runs (cargo bench -p switchboard-hub / -p switchboard-core / -p switchboard --bench desktop give the real figures)"
cargo test -p switchboard-hub --bench hub --bench webhooks --bench abuse --bench chaos --bench routing --bench reports --bench campaigns --bench knowledge --bench scale --locked
cargo test -p switchboard-core --bench core --locked
cargo test -p switchboard --bench desktop --locked

#!/usr/bin/env bash
# Backs up a Switchboard workspace kept in PostgreSQL, while its hubs keep running.
#
#   deploy/backup.sh DATABASE_URL OUT_DIR [--files DIR]
#
# Writes into OUT_DIR (created if missing; it must not hold a backup already):
#   switchboard.dump   pg_dump --format=custom --no-owner of the workspace: only its schema
#                      when the URL names one (options=-csearch_path%3DNAME), else the whole
#                      database
#   manifest.txt       the schema version and the counts of conversations and messages, read
#                      in the very snapshot the dump was taken from; restore.sh checks them
#   files/             with --files DIR: a copy (cp -a) of the hubs' file directory
#                      (`blob_dir`), taken after the database, so every file the dump names
#                      is in it
#
# Files kept in a bucket (`s3_bucket`) are not copied by this script: keep them with the
# provider's versioning or replication, or copy them with `aws s3 sync`.
#
# Needs psql and pg_dump (Debian's postgresql-client) of the server's major version or
# newer. The backup holds password and token hashes and provider credentials: store it as
# carefully as the database.

set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: backup.sh DATABASE_URL OUT_DIR [--files DIR]

  DATABASE_URL  the hubs' PostgreSQL URL, e.g.
                postgres://switchboard@db.internal/switchboard?options=-csearch_path%3Dsupport
  OUT_DIR       where switchboard.dump and manifest.txt are written
  --files DIR   also copy the hubs' file directory (blob_dir) to OUT_DIR/files
EOF
  exit 2
}

die() {
  echo "backup.sh: $*" >&2
  exit 1
}

url="" out="" files=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage ;;
    --files)
      [ $# -ge 2 ] || usage
      files="$2"
      shift 2
      ;;
    --files=*)
      files="${1#--files=}"
      shift
      ;;
    -*) usage ;;
    *)
      if [ -z "$url" ]; then
        url="$1"
      elif [ -z "$out" ]; then
        out="$1"
      else
        usage
      fi
      shift
      ;;
  esac
done
[ -n "$url" ] && [ -n "$out" ] || usage

for tool in psql pg_dump; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install postgresql-client)"
done

# The schema named by the URL's `options=-csearch_path%3DNAME`, lower-cased as PostgreSQL
# reads an unquoted name; empty when the URL names none.
schema_of() {
  local query decoded name
  case "$1" in
    *\?*) query="${1#*\?}" ;;
    *) return 0 ;;
  esac
  decoded="$(printf '%b' "${query//%/\\x}")"
  if [[ "$decoded" =~ -c[[:space:]]*search_path[[:space:]]*=[[:space:]]*([^,&[:space:]]+) ]]; then
    name="${BASH_REMATCH[1]}"
    name="${name//\"/}"
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "the schema name '$name' is not a plain name"
    printf '%s' "${name,,}"
  fi
}

# The URL with its password masked, for the manifest.
masked() {
  printf '%s' "$1" | sed -E 's#^([a-z]+://[^:/@]*):[^@/]*@#\1:***@#'
}

schema="$(schema_of "$url")"
[ -z "$files" ] || [ -d "$files" ] || die "$files is not a directory"
mkdir -p "$out"
[ ! -e "$out/switchboard.dump" ] || die "$out already holds a backup (switchboard.dump)"
[ ! -e "$out/files" ] || die "$out already holds files/"

# One read-only snapshot for the counts and the dump: a session holds it open, exported,
# while pg_dump reads from it, so the manifest counts exactly what the dump holds even as
# the hubs keep writing.
coproc PG { exec psql "$url" -X -q -t -A -v ON_ERROR_STOP=1; }
pg_in="${PG[1]}" pg_out="${PG[0]}" pg_pid="$PG_PID"

# Sends one query and sets `answer` to its one line (no subshell: the session's pipes
# stay with this shell).
answer=""
ask() {
  printf '%s\n' "$1" >&"$pg_in" || die "the database session ended"
  IFS= read -r -t 60 answer <&"$pg_out" || die "no answer from the database to: $1"
}

ask_nothing() {
  printf '%s\n' "$1" >&"$pg_in" || die "the database session ended"
}

ask_nothing "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
ask "SELECT pg_export_snapshot();"
snapshot="$answer"
ask "SELECT max(version) FROM schema_version;"
version="$answer"
ask "SELECT count(*) FROM conversations;"
conversations="$answer"
ask "SELECT count(*) FROM messages;"
messages="$answer"
[ -n "$version" ] || die "schema_version is empty: is this a Switchboard database?"

dump_args=(--format=custom --no-owner --snapshot="$snapshot" --file="$out/switchboard.dump")
if [ -n "$schema" ]; then
  dump_args+=(--schema="$schema")
fi
echo "dumping ${schema:+schema $schema of }$(masked "$url") to $out/switchboard.dump"
pg_dump "${dump_args[@]}" --dbname="$url"

ask_nothing "COMMIT;"
eval "exec ${pg_in}>&-"
wait "$pg_pid" || die "the database session failed"

file_count=""
if [ -n "$files" ]; then
  echo "copying $files to $out/files"
  mkdir "$out/files"
  cp -a "$files/." "$out/files/"
  file_count="$(find "$out/files" -type f ! -name '.*.part' | wc -l | tr -d ' ')"
fi

{
  echo "# Switchboard backup: restore it with deploy/restore.sh $out DATABASE_URL"
  echo "taken_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "source=$(masked "$url")"
  echo "schema=$schema"
  echo "schema_version=$version"
  echo "conversations=$conversations"
  echo "messages=$messages"
  if [ -n "$files" ]; then
    echo "files=$file_count"
  fi
  echo "pg_dump=$(pg_dump --version)"
} >"$out/manifest.txt"

echo "schema version $version, $conversations conversations, $messages messages${files:+, $file_count files}"
echo "wrote $out/switchboard.dump and $out/manifest.txt"

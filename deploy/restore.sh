#!/usr/bin/env bash
# Restores a backup written by deploy/backup.sh into an empty PostgreSQL schema or database,
# and checks it against the backup's manifest.
#
#   deploy/restore.sh DUMP_DIR DATABASE_URL [--files DIR]
#
# - A backup of one schema is restored into the schema the URL names
#   (options=-csearch_path%3DNAME), which may differ from the one it was taken from (a copy
#   beside the original, in the same database). That schema must hold nothing; an empty one
#   is dropped and made again by the restore. When the names differ, the restore and the
#   renaming are one transaction: the backup's schema is restored under its own name and
#   renamed; a schema of the backup's name already in the database is renamed aside for
#   the length of that transaction only (other sessions keep seeing it under its name),
#   which needs its owner's rights.
# - A backup of a whole database is restored into a database holding no tables, named by
#   a URL without a schema.
# - pg_restore runs with --no-owner in one transaction (--exit-on-error): a failure leaves
#   nothing behind. What it creates belongs to the URL's user: restore as the role the hubs
#   connect as.
# - With --files DIR, the backup's files/ are copied (cp -a) into DIR, which must be empty
#   or missing.
# - Then it prints the restored schema version and counts of conversations and messages
#   (and files) and exits with status 1 unless they equal the manifest's.
#
# Stop every hub of the workspace first, and before starting them again move the change
# feed past the consoles' cursors (docs/operations.md, "After a restore").

set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: restore.sh DUMP_DIR DATABASE_URL [--files DIR]

  DUMP_DIR      a directory written by backup.sh (switchboard.dump, manifest.txt)
  DATABASE_URL  where to restore, e.g.
                postgres://switchboard@db.internal/switchboard?options=-csearch_path%3Dsupport
                (the schema it names must be empty or missing)
  --files DIR   copy the backup's files (its files/) into DIR (empty or missing)
EOF
  exit 2
}

die() {
  echo "restore.sh: $*" >&2
  exit 1
}

dir="" url="" files=""
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
      if [ -z "$dir" ]; then
        dir="$1"
      elif [ -z "$url" ]; then
        url="$1"
      else
        usage
      fi
      shift
      ;;
  esac
done
[ -n "$dir" ] && [ -n "$url" ] || usage

for tool in psql pg_restore; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install postgresql-client)"
done
[ -f "$dir/switchboard.dump" ] || die "$dir/switchboard.dump is missing"
[ -f "$dir/manifest.txt" ] || die "$dir/manifest.txt is missing"

# The schema named by the URL's `options=-csearch_path%3DNAME` (as backup.sh reads it).
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

manifest() {
  sed -n "s/^$1=//p" "$dir/manifest.txt" | head -n 1
}

sql() {
  psql "$url" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"
}

from="$(manifest schema)"
taken=0
to="$(schema_of "$url")"
want_version="$(manifest schema_version)"
want_conversations="$(manifest conversations)"
want_messages="$(manifest messages)"
want_files="$(manifest files)"
[ -n "$want_version" ] && [ -n "$want_conversations" ] && [ -n "$want_messages" ] ||
  die "$dir/manifest.txt lacks schema_version, conversations or messages"

if [ -n "$files" ]; then
  [ -d "$dir/files" ] || die "the backup holds no files/ to restore into $files"
  if [ -e "$files" ] && [ -n "$(ls -A "$files")" ]; then
    die "$files is not empty"
  fi
elif [ -d "$dir/files" ]; then
  echo "note: the backup holds files ($dir/files); give --files DIR to restore them" >&2
fi

sql "SELECT 1" >/dev/null || die "cannot connect to the target database"

if [ -n "$from" ]; then
  [ -n "$to" ] || die "the backup is of schema $from: name the target schema in the URL (options=-csearch_path%3DNAME)"
  held="$(sql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$to'")"
  [ "$held" = 0 ] || die "schema $to is not empty ($held relations): restore into an empty schema"
  if [ "$from" != "$to" ]; then
    taken="$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = '$from'")"
  fi
else
  [ -z "$to" ] || die "the backup is of a whole database: restore it with a URL that names no schema"
  held="$(sql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'p', 'S', 'v', 'm')
                 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                 AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'")"
  [ "$held" = 0 ] || die "the target database is not empty ($held tables): restore into an empty database"
fi

echo "restoring $dir/switchboard.dump${to:+ into schema $to}"
if [ -z "$from" ]; then
  pg_restore --no-owner --exit-on-error --single-transaction --dbname="$url" "$dir/switchboard.dump"
else
  # pg_restore's script, applied by psql in one transaction that stops at the first error.
  # The restore makes the schema itself, so an empty one of the target's name goes first.
  # The backup's objects name their schema: they are restored under it, and the schema then
  # takes the target's name. COMMIT comes last, so a pg_restore that fails midway leaves the
  # transaction open when psql's input ends, and it is rolled back.
  hold="sbrestore_hold_$$"
  {
    echo "BEGIN;"
    echo "SET client_min_messages = warning;"
    echo "DROP SCHEMA IF EXISTS \"$to\";"
    if [ "$taken" != 0 ]; then
      echo "ALTER SCHEMA \"$from\" RENAME TO \"$hold\";"
    fi
    pg_restore --no-owner --exit-on-error --file=- "$dir/switchboard.dump" || exit 1
    if [ "$from" != "$to" ]; then
      echo "ALTER SCHEMA \"$from\" RENAME TO \"$to\";"
    fi
    if [ "$taken" != 0 ]; then
      echo "ALTER SCHEMA \"$hold\" RENAME TO \"$from\";"
    fi
    echo "COMMIT;"
  } | psql "$url" -X -q -v ON_ERROR_STOP=1 >/dev/null
fi

got_files=""
if [ -n "$files" ]; then
  echo "copying $dir/files to $files"
  mkdir -p "$files"
  cp -a "$dir/files/." "$files/"
  got_files="$(find "$files" -type f ! -name '.*.part' | wc -l | tr -d ' ')"
fi

got_version="$(sql "SELECT max(version) FROM schema_version")"
got_conversations="$(sql "SELECT count(*) FROM conversations")"
got_messages="$(sql "SELECT count(*) FROM messages")"

echo "restored: schema version $got_version, $got_conversations conversations, $got_messages messages${files:+, $got_files files}"
echo "manifest: schema version $want_version, $want_conversations conversations, $want_messages messages${want_files:+, $want_files files}"

ok=1
[ "$got_version" = "$want_version" ] || ok=0
[ "$got_conversations" = "$want_conversations" ] || ok=0
[ "$got_messages" = "$want_messages" ] || ok=0
if [ -n "$files" ] && [ -n "$want_files" ] && [ "$got_files" != "$want_files" ]; then
  ok=0
fi
if [ "$ok" != 1 ]; then
  echo "restore.sh: the restored database does not match the manifest" >&2
  exit 1
fi
echo "the restore matches the manifest"
echo "before starting the hubs, move the change feed past the consoles' cursors (docs/operations.md, After a restore)"

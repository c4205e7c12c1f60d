#!/usr/bin/env bash
# Restores an Authly backup (from backup_database.sh) into a PostgreSQL database. Destructive: with
# --clean it drops Authly's existing tables first. Asks for confirmation unless --yes is given, and
# refuses in a non-interactive shell without --yes.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/disaster_recovery.sh [options] BACKUP_FILE
       scripts/disaster_recovery.sh [options] --latest DIR

Restores BACKUP_FILE (pg_dump -Fc, checked against its .sha256 when present) into the database, in one
transaction: either everything is restored or nothing changes.

Options:
  -d, --database-url URL   target database (default: $DATABASE_URL, or the file named by $DATABASE_URL_FILE)
      --latest DIR         restore the newest authly-*.dump in DIR
      --clean              drop the objects the backup contains before restoring them (needed when the
                           target still has Authly's tables; without it such a target is refused)
  -y, --yes                do not ask for confirmation
  -h, --help               show this help

Afterwards: start Authly with the same JWT_SECRET_KEY and AUTHLY_KEY_ENCRYPTION_KEY as when the backup
was taken (client secrets and encrypted signing keys depend on them), then run
scripts/post_deployment_tests.sh. Tokens issued before the backup verify again; tokens issued after it
are unknown to the restored database and are refused.
USAGE
}

url="${DATABASE_URL:-}"
if [ -z "$url" ] && [ -n "${DATABASE_URL_FILE:-}" ]; then url="$(cat "$DATABASE_URL_FILE")"; fi
file=""
latest=""
clean=0
yes=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    -d | --database-url) [ "$#" -ge 2 ] || { echo "error: $1 needs a URL" >&2; exit 2; }; url="$2"; shift ;;
    --latest) [ "$#" -ge 2 ] || { echo "error: $1 needs a directory" >&2; exit 2; }; latest="$2"; shift ;;
    --clean) clean=1 ;;
    -y | --yes) yes=1 ;;
    -*) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) [ -z "$file" ] || { echo "error: one backup file only" >&2; exit 2; }; file="$1" ;;
  esac
  shift
done
[ -n "$url" ] || { echo "error: no database: set DATABASE_URL or pass --database-url" >&2; exit 2; }
if [ -n "$latest" ]; then
  [ -z "$file" ] || { echo "error: give BACKUP_FILE or --latest, not both" >&2; exit 2; }
  file="$(find "$latest" -maxdepth 1 -type f -name 'authly-????????T??????Z.dump' | sort | tail -n 1)"
  [ -n "$file" ] || { echo "error: no authly-*.dump in $latest" >&2; exit 1; }
fi
[ -n "$file" ] || { usage >&2; exit 2; }
[ -f "$file" ] || { echo "error: no such file: $file" >&2; exit 1; }
for tool in pg_restore psql; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed (Debian: postgresql-client)" >&2; exit 1; }
done

# 1. The backup is intact and readable.
if [ -f "$file.sha256" ]; then
  (cd "$(dirname "$file")" && sha256sum --check --quiet "$(basename "$file").sha256") || { echo "error: $file does not match its checksum" >&2; exit 1; }
  echo "Checksum OK: $file" >&2
fi
pg_restore --list "$file" >/dev/null || { echo "error: pg_restore cannot read $file" >&2; exit 1; }

# 2. What is about to be replaced. The URL is shown without its password.
target="$(psql "$url" -XAtqc "SELECT current_database() || ' on ' || coalesce(inet_server_addr()::text, 'local socket')")"
tables="$(psql "$url" -XAtqc "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('pgmigrations', 'clients', 'users', 'signing_keys')")"
if [ "$tables" -gt 0 ] && [ "$clean" -ne 1 ]; then
  echo "error: database $target already holds Authly's tables; use --clean to replace them" >&2
  exit 1
fi

# 3. Confirmation: this replaces the live data.
echo "About to restore $file into database $target$([ "$clean" -eq 1 ] && echo ', dropping its existing Authly objects first')." >&2
if [ "$yes" -ne 1 ]; then
  if [ ! -t 0 ]; then
    echo "error: refusing to restore without confirmation; run interactively or pass --yes" >&2
    exit 1
  fi
  read -r -p "Type the database name ($(cut -d' ' -f1 <<<"$target")) to continue: " answer
  [ "$answer" = "$(cut -d' ' -f1 <<<"$target")" ] || { echo "Aborted." >&2; exit 1; }
fi

# 4. Restore in one transaction; stop at the first error (a half-restored identity database is worse
# than the old one).
restore_opts=(--dbname="$url" --no-owner --no-privileges --single-transaction --exit-on-error)
[ "$clean" -ne 1 ] || restore_opts+=(--clean --if-exists)
pg_restore "${restore_opts[@]}" "$file"

# 5. A quick look at what came back.
psql "$url" -XAtqc "SELECT 'migrations: ' || (SELECT count(*) FROM pgmigrations) || ', clients: ' || (SELECT count(*) FROM clients) || ', users: ' || (SELECT count(*) FROM users) || ', signing keys: ' || (SELECT count(*) FROM signing_keys)" >&2
echo "Restored $file into $target. Start Authly, then run scripts/post_deployment_tests.sh <issuer>." >&2

#!/usr/bin/env bash
# A consistent backup of Authly's PostgreSQL database with pg_dump's custom format (compressed, restorable
# table by table with pg_restore), verified, checksummed, and pruned by age.
#
# What a backup holds: users (argon2id hashes), clients (keyed secret hashes), signing keys (encrypted
# when AUTHLY_KEY_ENCRYPTION_KEY is set), grants and token records. Keep backups as secret as the
# database. Restoring needs the same JWT_SECRET_KEY and AUTHLY_KEY_ENCRYPTION_KEY as at backup time:
# back those up separately (they are not in the database).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/backup_database.sh [options]

Writes DIR/authly-<UTC timestamp>.dump (pg_dump -Fc) and a .sha256 next to it, checks that pg_restore
can read it, then deletes this script's backups in DIR older than the retention (never the newest
--min-keep ones). Prints the backup's path on the last line.

Options:
  -d, --database-url URL   PostgreSQL URL (default: $DATABASE_URL, or the file named by $DATABASE_URL_FILE)
  -o, --dir DIR            backup directory (default: ./backups)
  -r, --retention-days N   delete backups older than N days (default 14; 0 keeps everything)
      --min-keep N         always keep the N newest backups (default 3)
  -h, --help               show this help

Example (cron, daily at 02:15):
  15 2 * * * cd /srv/authly && DATABASE_URL_FILE=secrets/database_url scripts/backup_database.sh -o /backups
USAGE
}

url="${DATABASE_URL:-}"
if [ -z "$url" ] && [ -n "${DATABASE_URL_FILE:-}" ]; then url="$(cat "$DATABASE_URL_FILE")"; fi
dir="./backups"
retention=14
min_keep=3
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    -d | --database-url) [ "$#" -ge 2 ] || { echo "error: $1 needs a URL" >&2; exit 2; }; url="$2"; shift ;;
    -o | --dir) [ "$#" -ge 2 ] || { echo "error: $1 needs a directory" >&2; exit 2; }; dir="$2"; shift ;;
    -r | --retention-days) [ "$#" -ge 2 ] || { echo "error: $1 needs a number" >&2; exit 2; }; retention="$2"; shift ;;
    --min-keep) [ "$#" -ge 2 ] || { echo "error: $1 needs a number" >&2; exit 2; }; min_keep="$2"; shift ;;
    *) echo "error: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[ -n "$url" ] || { echo "error: no database: set DATABASE_URL or pass --database-url" >&2; exit 2; }
[[ "$retention" =~ ^[0-9]+$ && "$min_keep" =~ ^[0-9]+$ ]] || { echo "error: --retention-days and --min-keep take whole numbers" >&2; exit 2; }
for tool in pg_dump pg_restore sha256sum; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed (Debian: postgresql-client)" >&2; exit 1; }
done

umask 077
mkdir -p "$dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="$dir/authly-$stamp.dump"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

# pg_dump takes one snapshot (a consistent view while Authly keeps writing). --no-owner and
# --no-privileges let the dump be restored by a different role on a different server.
pg_dump --dbname="$url" --format=custom --compress=6 --no-owner --no-privileges --file="$partial"
# A dump pg_restore cannot read is not a backup.
pg_restore --list "$partial" >/dev/null
mv "$partial" "$target"
(cd "$dir" && sha256sum "$(basename "$target")" >"$(basename "$target").sha256")
size="$(wc -c <"$target" | tr -d ' ')"
echo "Backup written: $target ($size bytes)" >&2

# Retention: only files this script wrote (authly-YYYYmmddTHHMMSSZ.dump), oldest first, never the
# newest $min_keep, only those older than $retention days.
if [ "$retention" -gt 0 ]; then
  mapfile -t backups < <(find "$dir" -maxdepth 1 -type f -name 'authly-????????T??????Z.dump' -printf '%f\n' | sort)
  removable=$(( ${#backups[@]} - min_keep ))
  now="$(date -u +%s)"
  for ((i = 0; i < removable; i++)); do
    name="${backups[$i]}"
    mtime="$(stat -c %Y "$dir/$name")"
    if [ $(( (now - mtime) / 86400 )) -ge "$retention" ]; then
      rm -f "$dir/$name" "$dir/$name.sha256"
      echo "Deleted expired backup $dir/$name" >&2
    fi
  done
fi
echo "$target"

#!/usr/bin/env bash
# Applies Authly's pending database migrations (`authly migrate`), either with the local build or in a
# one-off container of the Compose stack. Migrations are forward-only SQL that node-pg-migrate applies
# under an advisory lock, so running this while servers run, or twice at once, is safe. Take a backup
# first all the same (scripts/backup_database.sh): there is no down migration.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/migrate_database.sh [options]

Runs `authly migrate` against the configured database (DATABASE_URL, or DATABASE_URL_FILE) and prints
the migrations it applied ("No pending migrations." when there were none).

Options:
      --compose          run it in the Compose stack: docker compose run --rm authly node dist/cli/authly.js migrate
  -f, --file FILE        a Compose file (repeatable; default: docker-compose.yml, plus docker-compose.prod.yml
                         when it exists and --file is not given)
      --env-file FILE    read variables from FILE first (KEY=VALUE lines)
      --backup DIR       run scripts/backup_database.sh -o DIR first (local mode)
  -h, --help             show this help

Environment:
  AUTHLY_CLI   the command that runs Authly's CLI (default: node dist/cli/authly.js from this checkout,
               after `npm run build`; or `authly` on PATH)
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
compose_mode=0
files=()
backup_dir=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --compose) compose_mode=1 ;;
    -f | --file) [ "$#" -ge 2 ] || { echo "error: $1 needs a file" >&2; exit 2; }; files+=("$2"); shift ;;
    --env-file)
      [ "$#" -ge 2 ] || { echo "error: $1 needs a file" >&2; exit 2; }
      [ -f "$2" ] || { echo "error: no such file: $2" >&2; exit 2; }
      set -a
      # shellcheck disable=SC1090 # the operator's environment file
      . "$2"
      set +a
      shift ;;
    --backup) [ "$#" -ge 2 ] || { echo "error: $1 needs a directory" >&2; exit 2; }; backup_dir="$2"; shift ;;
    *) echo "error: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

if [ "$compose_mode" -eq 1 ]; then
  if docker compose version >/dev/null 2>&1; then compose=(docker compose); elif command -v docker-compose >/dev/null; then compose=(docker-compose);
  else echo "error: neither 'docker compose' nor docker-compose is installed" >&2; exit 1; fi
  if [ "${#files[@]}" -eq 0 ]; then
    files=("$root/docker-compose.yml")
    [ ! -f "$root/docker-compose.prod.yml" ] || files+=("$root/docker-compose.prod.yml")
  fi
  args=()
  for f in "${files[@]}"; do args+=(-f "$f"); done
  echo "Running: ${compose[*]} ${args[*]} run --rm authly node dist/cli/authly.js migrate" >&2
  exec "${compose[@]}" "${args[@]}" run --rm authly node dist/cli/authly.js migrate
fi

if [ -z "${DATABASE_URL:-}" ] && [ -z "${DATABASE_URL_FILE:-}" ]; then
  echo "warning: DATABASE_URL is not set: migrating the embedded development database in \${AUTHLY_DATA_DIR:-./data}" >&2
fi
if [ -n "$backup_dir" ]; then
  "$here/backup_database.sh" --dir "$backup_dir" >/dev/null
fi
if [ -n "${AUTHLY_CLI:-}" ]; then
  read -r -a cli <<<"$AUTHLY_CLI"
elif [ -f "$root/dist/cli/authly.js" ]; then
  cli=(node "$root/dist/cli/authly.js")
elif command -v authly >/dev/null; then
  cli=(authly)
else
  echo "error: Authly is not built: run npm run build (or set AUTHLY_CLI)" >&2
  exit 1
fi
exec "${cli[@]}" migrate

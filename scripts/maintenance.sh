#!/usr/bin/env bash
# Routine database maintenance for Authly: the cleanup the server runs on its interval, on demand
# (`authly maintenance`: expired codes, tokens, sessions, interactions, unusable grants), then
# VACUUM (ANALYZE) of Authly's tables so PostgreSQL reuses the space and plans with fresh statistics.
# Both are online operations. VACUUM FULL rewrites and locks tables, so it asks for confirmation.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/maintenance.sh [options] [TASK...]

Tasks (default: cleanup vacuum):
  cleanup    authly maintenance: delete rows nobody can use any more (safe while servers run)
  vacuum     VACUUM (ANALYZE) on Authly's tables (online)
  report     table sizes, live and dead rows, last (auto)vacuum
  full       VACUUM FULL: returns space to the OS but LOCKS each table while it is rewritten
             (sign-in stops meanwhile); asks for confirmation

Options:
  -d, --database-url URL   the database (default: $DATABASE_URL, or the file named by $DATABASE_URL_FILE)
  -y, --yes                do not ask for confirmation (for `full`)
  -h, --help               show this help

Environment:
  AUTHLY_CLI   the command that runs Authly's CLI (default: node dist/cli/authly.js from this checkout,
               or `authly` on PATH)

Example (cron, nightly): 30 3 * * * cd /srv/authly && scripts/maintenance.sh cleanup vacuum
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
url="${DATABASE_URL:-}"
if [ -z "$url" ] && [ -n "${DATABASE_URL_FILE:-}" ]; then url="$(cat "$DATABASE_URL_FILE")"; fi
yes=0
tasks=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    -d | --database-url) [ "$#" -ge 2 ] || { echo "error: $1 needs a URL" >&2; exit 2; }; url="$2"; shift ;;
    -y | --yes) yes=1 ;;
    cleanup | vacuum | report | full) tasks+=("$1") ;;
    *) echo "error: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[ "${#tasks[@]}" -gt 0 ] || tasks=(cleanup vacuum)
[ -n "$url" ] || { echo "error: no database: set DATABASE_URL or pass --database-url" >&2; exit 2; }

# Authly's tables, as the migrations create them (the migrations table included).
tables_sql="SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
  WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"

run_cleanup() {
  local cli
  if [ -n "${AUTHLY_CLI:-}" ]; then read -r -a cli <<<"$AUTHLY_CLI"
  elif [ -f "$root/dist/cli/authly.js" ]; then cli=(node "$root/dist/cli/authly.js")
  elif command -v authly >/dev/null; then cli=(authly)
  else echo "error: Authly is not built: run npm run build (or set AUTHLY_CLI)" >&2; return 1; fi
  echo "== cleanup" >&2
  DATABASE_URL="$url" "${cli[@]}" maintenance
}

run_vacuum() {
  local mode="$1" table
  echo "== VACUUM ${mode}" >&2
  while IFS= read -r table; do
    [ -n "$table" ] || continue
    # One statement per table: VACUUM cannot run inside a transaction block.
    psql "$url" -XqAt -v ON_ERROR_STOP=1 -c "VACUUM (${mode}) ${table}"
    echo "vacuumed ${table}" >&2
  done < <(psql "$url" -XqAt -v ON_ERROR_STOP=1 -c "$tables_sql")
}

run_report() {
  echo "== report" >&2
  psql "$url" -X -v ON_ERROR_STOP=1 -c "SELECT relname AS table, pg_size_pretty(pg_total_relation_size(relid)) AS size,
      n_live_tup AS live_rows, n_dead_tup AS dead_rows, last_vacuum, last_autovacuum
    FROM pg_stat_user_tables WHERE schemaname = current_schema() ORDER BY pg_total_relation_size(relid) DESC"
}

command -v psql >/dev/null || { echo "error: psql is not installed (Debian: postgresql-client)" >&2; exit 1; }
for task in "${tasks[@]}"; do
  case "$task" in
    cleanup) run_cleanup ;;
    vacuum) run_vacuum ANALYZE ;;
    report) run_report ;;
    full)
      if [ "$yes" -ne 1 ]; then
        [ -t 0 ] || { echo "error: VACUUM FULL locks Authly's tables; run interactively or pass --yes" >&2; exit 1; }
        read -r -p "VACUUM FULL locks each table while it is rewritten: sign-in stops meanwhile. Continue? [y/N] " answer
        [[ "$answer" =~ ^[Yy]$ ]] || { echo "Skipped VACUUM FULL." >&2; continue; }
      fi
      run_vacuum "FULL, ANALYZE" ;;
  esac
done
echo "Maintenance done: ${tasks[*]}" >&2

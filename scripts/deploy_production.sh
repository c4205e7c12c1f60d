#!/usr/bin/env bash
# Deploys (or updates) Authly on one host with Docker Compose: docker-compose.yml + docker-compose.prod.yml
# (nginx with TLS, Docker secrets). Pre-flight checks first, then a confirmation, then pull/build and
# up, then waits for Authly to be healthy and runs scripts/post_deployment_tests.sh against the issuer.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/deploy_production.sh [options]

Pre-flight (nothing is changed if one fails):
  docker and Compose are installed; the Compose files validate (`compose config`);
  DEFAULT_ISSUER_URL is an https URL; every secret file in secrets/ exists, is non-empty and not
  readable by others; nginx/certs/server.crt and server.key exist and the certificate is valid for at
  least 14 more days.
Then, after confirmation: pull (or --build), up -d, wait until Authly's container is healthy, and run
scripts/post_deployment_tests.sh "$DEFAULT_ISSUER_URL".

Options:
      --env-file FILE      read variables (DEFAULT_ISSUER_URL, ...) from FILE (default: .env when present)
      --project-dir DIR    where the Compose files, secrets/ and nginx/ are (default: this checkout)
      --build              build the image here instead of pulling it
      --monitoring         also start Prometheus and Grafana (profile monitoring)
      --skip-tests         do not run the post-deployment tests
  -y, --yes                do not ask for confirmation
  -h, --help               show this help

Take a backup before an upgrade: scripts/backup_database.sh (migrations are forward-only).
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/.." && pwd)"
env_file=""
build=0
monitoring=0
skip_tests=0
yes=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --env-file) [ "$#" -ge 2 ] || { echo "error: $1 needs a file" >&2; exit 2; }; env_file="$2"; shift ;;
    --project-dir) [ "$#" -ge 2 ] || { echo "error: $1 needs a directory" >&2; exit 2; }; project="$(cd "$2" && pwd)"; shift ;;
    --build) build=1 ;;
    --monitoring) monitoring=1 ;;
    --skip-tests) skip_tests=1 ;;
    -y | --yes) yes=1 ;;
    *) echo "error: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[ -n "$env_file" ] || [ ! -f "$project/.env" ] || env_file="$project/.env"
if [ -n "$env_file" ]; then
  [ -f "$env_file" ] || { echo "error: no such file: $env_file" >&2; exit 2; }
  set -a
  # shellcheck disable=SC1090 # the operator's environment file
  . "$env_file"
  set +a
fi

problems=0
check() { if [ "$1" -eq 0 ]; then printf 'ok    %s\n' "$2"; else printf 'FAIL  %s\n' "$2"; problems=$((problems + 1)); fi; }

echo "== Pre-flight ($project)"
if docker compose version >/dev/null 2>&1; then compose=(docker compose); elif command -v docker-compose >/dev/null; then compose=(docker-compose); else compose=(); fi
check "$([ "${#compose[@]}" -gt 0 ]; echo $?)" "docker compose is installed"
files=(-f "$project/docker-compose.yml" -f "$project/docker-compose.prod.yml")
profile=()
[ "$monitoring" -eq 0 ] || profile=(--profile monitoring)
if [ "${#compose[@]}" -gt 0 ]; then
  check "$("${compose[@]}" "${files[@]}" "${profile[@]}" config -q >/dev/null 2>&1; echo $?)" "Compose files validate"
fi
issuer="${DEFAULT_ISSUER_URL:-}"
check "$([[ "$issuer" == https://* ]]; echo $?)" "DEFAULT_ISSUER_URL is https (${issuer:-unset})"
secrets=(database_url redis_url jwt_secret_key key_encryption_key postgres_password redis_password)
[ "$monitoring" -eq 0 ] || secrets+=(grafana_admin_password)
secrets_dir="${AUTHLY_SECRETS_DIR:-$project/secrets}"
for secret in "${secrets[@]}"; do
  f="$secrets_dir/$secret"
  ok=1
  if [ -s "$f" ] && [ "$(( 8#$(stat -c %a "$f") & 8#007 ))" -eq 0 ]; then ok=0; fi
  check "$ok" "secret $secret exists, is non-empty and not world-readable"
done
cert="$project/nginx/certs/server.crt"
check "$([ -s "$cert" ] && [ -s "$project/nginx/certs/server.key" ]; echo $?)" "TLS certificate and key in nginx/certs/"
if [ -s "$cert" ]; then
  check "$(openssl x509 -in "$cert" -noout -checkend $((14 * 86400)) >/dev/null 2>&1; echo $?)" "certificate valid for 14 more days"
fi
if [ "$problems" -gt 0 ]; then
  echo "Pre-flight failed ($problems problem(s)); nothing was changed." >&2
  exit 1
fi

echo "About to deploy Authly to production at $issuer ($([ "$build" -eq 1 ] && echo build || echo pull), up -d)."
if [ "$yes" -ne 1 ]; then
  [ -t 0 ] || { echo "error: refusing to deploy without confirmation; run interactively or pass --yes" >&2; exit 1; }
  read -r -p "Deploy now? [y/N] " answer
  [[ "$answer" =~ ^[Yy]$ ]] || { echo "Aborted; nothing was changed." >&2; exit 1; }
fi

echo "== Deploy"
if [ "$build" -eq 1 ]; then
  "${compose[@]}" "${files[@]}" "${profile[@]}" build --pull authly
else
  "${compose[@]}" "${files[@]}" "${profile[@]}" pull --ignore-pull-failures
fi
"${compose[@]}" "${files[@]}" "${profile[@]}" up -d --remove-orphans

echo "== Waiting for Authly to be healthy"
healthy=1
for _ in $(seq 1 60); do
  id="$("${compose[@]}" "${files[@]}" ps -q authly | head -n 1)"
  if [ -n "$id" ] && [ "$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null)" = healthy ]; then healthy=0; break; fi
  sleep 2
done
if [ "$healthy" -ne 0 ]; then
  echo "error: Authly did not become healthy; recent logs:" >&2
  "${compose[@]}" "${files[@]}" logs --tail 50 authly >&2 || true
  exit 1
fi
echo "Authly is healthy."

if [ "$skip_tests" -eq 0 ]; then
  # From this host, nginx may see the request come from Docker's bridge (a private address it allows),
  # so whether /metrics is public can only be judged from outside: that check is skipped here.
  "$here/post_deployment_tests.sh" --metrics skip "$issuer"
fi
echo "Deployed."

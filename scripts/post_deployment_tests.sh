#!/usr/bin/env bash
# Smoke tests against a deployed Authly: liveness, readiness, discovery, JWKS, the token endpoint's error
# answer, security headers and whether /metrics is exposed. Read-only: it creates nothing, logs in as
# nobody, and sends no credentials. Exit status 0 only when every check passes.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/post_deployment_tests.sh [options] BASE_URL

Checks a running Authly at BASE_URL (its issuer, e.g. https://auth.example.com):
  /health answers 200; /health/ready answers 200 (the database is reachable)
  discovery: issuer equals BASE_URL, endpoints are under BASE_URL, PKCE S256 only
  JWKS: at least one key, each with kid, and no private key members
  /oauth/token: a request without client credentials gets a 400/401 JSON OAuth error, no-store
  /oauth/authorize: a request without parameters gets a 400 page, not a redirect
  security headers: X-Content-Type-Options, anti-framing, and HSTS when BASE_URL is https
  /metrics: denied (403/404) when BASE_URL is https (public, behind nginx), served when http
            (a direct, internal address); override with --metrics

Options:
  --cacert FILE        trust this CA (e.g. nginx/certs/ca.crt from setup-dev-certs.sh)
  --metrics MODE       open | denied | skip   (default: by scheme, see above)
  --timeout SECONDS    per request (default 10)
  -h, --help           show this help

Exit status: 0 all checks passed, 1 a check failed, 2 usage error.
USAGE
}

cacert=""
metrics_mode=""
timeout=10
base=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --cacert) [ "$#" -ge 2 ] || { echo "error: --cacert needs a file" >&2; exit 2; }; cacert="$2"; shift ;;
    --metrics) [ "$#" -ge 2 ] || { echo "error: --metrics needs a mode" >&2; exit 2; }; metrics_mode="$2"; shift ;;
    --timeout) [ "$#" -ge 2 ] || { echo "error: --timeout needs seconds" >&2; exit 2; }; timeout="$2"; shift ;;
    -*) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) [ -z "$base" ] || { echo "error: one BASE_URL only" >&2; exit 2; }; base="$1" ;;
  esac
  shift
done
[ -n "$base" ] || { usage >&2; exit 2; }
base="${base%/}"
case "$base" in http://* | https://*) ;; *) echo "error: BASE_URL must start with http:// or https://" >&2; exit 2 ;; esac
case "$metrics_mode" in "") if [[ "$base" == https://* ]]; then metrics_mode=denied; else metrics_mode=open; fi ;; open | denied | skip) ;;
  *) echo "error: --metrics must be open, denied or skip" >&2; exit 2 ;; esac
command -v curl >/dev/null || { echo "error: curl is not installed" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
curl_opts=(--silent --show-error --max-time "$timeout" --proto '=http,https')
[ -z "$cacert" ] || curl_opts+=(--cacert "$cacert")

failures=0
pass() { printf 'PASS  %s\n' "$1"; }
fail() { printf 'FAIL  %s\n' "$1"; failures=$((failures + 1)); }

# request NAME METHOD PATH [curl args...]: body in $work/NAME.body, headers in $work/NAME.headers,
# status code in $status (000 when the connection failed).
status=""
request() {
  local name="$1" method="$2" path="$3"
  shift 3
  status="$(curl "${curl_opts[@]}" -X "$method" -o "$work/$name.body" -D "$work/$name.headers" -w '%{http_code}' "$@" "$base$path" 2>"$work/$name.err" || true)"
  [ -n "$status" ] || status=000
  touch "$work/$name.body" "$work/$name.headers"
}
# header NAME HEADER: the value of a response header (last one, without CR), or empty.
header() {
  grep -i "^$2:" "$work/$1.headers" | tail -n 1 | sed -e 's/^[^:]*:[[:space:]]*//' -e 's/\r$//' || true
}
# json_string NAME FIELD: a top-level string field of a JSON body (jq when installed; Authly's JSON is
# compact, so a pattern is a sound fallback).
json_string() {
  if command -v jq >/dev/null; then
    jq -r --arg f "$2" '.[$f] // empty | strings' "$work/$1.body" 2>/dev/null || true
  else
    grep -o "\"$2\":\"[^\"]*\"" "$work/$1.body" | head -n 1 | sed -e "s/^\"$2\":\"//" -e 's/"$//' || true
  fi
}

echo "Authly post-deployment tests against $base"

request health GET /health
if [ "$status" = 200 ] && grep -q '"status":"ok"' "$work/health.body"; then pass "GET /health is 200 ok"
else fail "GET /health: status $status $(head -c 200 "$work/health.body") $(cat "$work/health.err")"; fi

request ready GET /health/ready
if [ "$status" = 200 ]; then pass "GET /health/ready is 200 (database reachable)"
else fail "GET /health/ready: status $status $(head -c 200 "$work/ready.body")"; fi

request discovery GET /.well-known/openid-configuration
issuer="$(json_string discovery issuer)"
if [ "$status" = 200 ] && [ "$issuer" = "$base" ]; then pass "discovery issuer is $base"
else fail "discovery: status $status, issuer '${issuer}' (expected '$base')"; fi
for field in authorization_endpoint token_endpoint jwks_uri userinfo_endpoint; do
  value="$(json_string discovery "$field")"
  if [[ "$value" == "$base/"* ]]; then pass "discovery $field is under the issuer"
  else fail "discovery $field is '$value', not under $base"; fi
done
if grep -q '"code_challenge_methods_supported":\["S256"\]' "$work/discovery.body"; then pass "discovery advertises PKCE S256 only"
else fail "discovery does not advertise code_challenge_methods_supported [\"S256\"]"; fi

request jwks GET /.well-known/jwks.json
kids="$({ grep -o '"kid":"[^"]*"' "$work/jwks.body" || true; } | wc -l | tr -d ' ')"
if [ "$status" = 200 ] && [ "$kids" -gt 0 ]; then pass "JWKS has $kids key(s)"
else fail "JWKS: status $status, $kids keys"; fi
if grep -Eq '"(d|p|q|dp|dq|qi)":' "$work/jwks.body"; then fail "JWKS contains private key members"
else pass "JWKS holds public members only"; fi

request token POST /oauth/token -H 'content-type: application/x-www-form-urlencoded' --data 'grant_type=client_credentials'
error="$(json_string token error)"
if { [ "$status" = 400 ] || [ "$status" = 401 ]; } && [ -n "$error" ]; then pass "token endpoint refuses an unauthenticated request: $status $error"
else fail "token endpoint: status $status, body $(head -c 200 "$work/token.body")"; fi
if [[ "$(header token cache-control)" == *no-store* ]]; then pass "token response has Cache-Control: no-store"
else fail "token response lacks Cache-Control: no-store"; fi

request authorize GET /oauth/authorize
if [ "$status" = 400 ] && [ -z "$(header authorize location)" ]; then pass "authorize without parameters is a 400 page, no redirect"
else fail "authorize without parameters: status $status, Location '$(header authorize location)'"; fi

if [ "$(header discovery x-content-type-options)" = nosniff ]; then pass "X-Content-Type-Options: nosniff"
else fail "X-Content-Type-Options missing on discovery"; fi
if [ -n "$(header authorize x-frame-options)" ] || [[ "$(header authorize content-security-policy)" == *frame-ancestors* ]]; then pass "pages refuse framing"
else fail "no X-Frame-Options or CSP frame-ancestors on the authorization page"; fi
if [[ "$base" == https://* ]]; then
  hsts="$(header health strict-transport-security)"
  if [[ "$hsts" == *max-age=* ]]; then pass "Strict-Transport-Security: $hsts"
  else fail "Strict-Transport-Security missing on https"; fi
fi

case "$metrics_mode" in
  open)
    request metrics GET /metrics
    if [ "$status" = 200 ] && grep -q '^authly_http_requests_total' "$work/metrics.body"; then pass "/metrics serves Authly's metrics"
    else fail "/metrics: status $status"; fi ;;
  denied)
    request metrics GET /metrics
    if [ "$status" = 403 ] || [ "$status" = 404 ]; then pass "/metrics is not public ($status)"
    else fail "/metrics is reachable from here (status $status): restrict it (nginx allow/deny)"; fi ;;
  skip) ;;
esac

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "All checks passed"

#!/usr/bin/env bash
# Development TLS: a local certificate authority and a server certificate signed by it, for nginx in
# front of Authly (nginx/nginx.conf reads /etc/nginx/certs/{server.crt,server.key}). Never for
# production: use certificates from a real CA (Let's Encrypt or your organisation's).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/setup-dev-certs.sh [options] [HOST...]

Creates, with openssl, into the output directory (default nginx/certs/, which git ignores):
  ca.crt, ca.key          a local certificate authority (10 years); trust ca.crt in your client
  server.crt, server.key  a server certificate (825 days) signed by that CA, with the subject
                          alternative names localhost, 127.0.0.1, ::1 and every HOST given

Options:
  -o, --out DIR   output directory (default: nginx/certs next to this script)
  -f, --force     replace existing files (without it the script refuses to overwrite)
  -h, --help      show this help

Examples:
  scripts/setup-dev-certs.sh                    # localhost only
  scripts/setup-dev-certs.sh auth.local         # also auth.local
  NODE_EXTRA_CA_CERTS=nginx/certs/ca.crt node app.js   # make Node trust the development CA
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../nginx/certs"
force=0
hosts=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    -f | --force) force=1 ;;
    -o | --out)
      [ "$#" -ge 2 ] || { echo "error: $1 needs a directory" >&2; exit 2; }
      out="$2"; shift ;;
    -*) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
    *)
      # A host name or an IP address; anything else would end up inside the openssl config.
      if ! [[ "$1" =~ ^[A-Za-z0-9.:-]+$ ]]; then echo "error: not a host name or IP address: $1" >&2; exit 2; fi
      hosts+=("$1") ;;
  esac
  shift
done

command -v openssl >/dev/null || { echo "error: openssl is not installed" >&2; exit 1; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"

existing=()
for f in ca.crt ca.key server.crt server.key; do [ -e "$out/$f" ] && existing+=("$f"); done
if [ "${#existing[@]}" -gt 0 ] && [ "$force" -ne 1 ]; then
  echo "Certificates already exist in $out (${existing[*]}); nothing changed. Use --force to replace them." >&2
  exit 0
fi

umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Subject alternative names: browsers and Node ignore the CN and match only these (RFC 6125).
san="DNS:localhost,IP:127.0.0.1,IP:::1"
for h in "${hosts[@]+"${hosts[@]}"}"; do
  if [[ "$h" =~ ^[0-9.]+$ || "$h" == *:* ]]; then san="$san,IP:$h"; else san="$san,DNS:$h"; fi
done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
  -subj "/CN=Authly development CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null

openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
  -subj "/CN=${hosts[0]:-localhost}" -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null

cat >"$work/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san
EXT
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
  -sha256 -days 825 -extfile "$work/server.ext" -out "$work/server.crt" 2>/dev/null

openssl verify -CAfile "$work/ca.crt" "$work/server.crt" >/dev/null
install -m 0644 "$work/ca.crt" "$work/server.crt" "$out/"
install -m 0600 "$work/ca.key" "$work/server.key" "$out/"
echo "Wrote $out/{ca.crt,ca.key,server.crt,server.key} (SAN: $san)"
echo "Trust $out/ca.crt in your browser or client to use https://localhost without warnings."

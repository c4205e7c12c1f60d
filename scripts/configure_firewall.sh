#!/usr/bin/env bash
# Host firewall for a server running Authly behind nginx: incoming traffic denied by default; SSH
# (rate-limited, optionally from one network only), HTTP (for the redirect and ACME) and HTTPS allowed;
# Prometheus and Grafana only from a monitoring network when asked. PostgreSQL and Redis are never
# opened: in the Compose setup they publish no port at all.
#
# Dry run by default: prints the commands (ufw) or the ruleset (nftables). --apply changes the host's
# firewall, after a confirmation (or --yes). Keep a second SSH session open while applying.
#
# Docker note: ports published by Docker bypass ufw's INPUT rules (Docker writes its own iptables
# chains). The Compose files therefore publish Authly, Prometheus and Grafana on 127.0.0.1 only, and
# only nginx on 80/443.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/configure_firewall.sh [options]

Options:
      --backend ufw|nftables   firewall to configure (default: ufw)
      --ssh-port PORT          SSH port (default 22)
      --ssh-from CIDR          allow SSH only from this network (default: anywhere, rate-limited)
      --monitoring-from CIDR   allow Prometheus (9090) and Grafana (3000) from this network
      --apply                  change the firewall (default: dry run, print only)
  -y, --yes                    with --apply: do not ask for confirmation
  -h, --help                   show this help

Examples:
  scripts/configure_firewall.sh                                # show the ufw commands
  scripts/configure_firewall.sh --backend nftables --ssh-from 203.0.113.0/24
  sudo scripts/configure_firewall.sh --apply --monitoring-from 10.8.0.0/16
USAGE
}

backend=ufw
ssh_port=22
ssh_from=""
monitoring_from=""
apply=0
yes=0
cidr='^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$'
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --backend) [ "$#" -ge 2 ] || { echo "error: $1 needs a value" >&2; exit 2; }; backend="$2"; shift ;;
    --ssh-port) [ "$#" -ge 2 ] || { echo "error: $1 needs a port" >&2; exit 2; }; ssh_port="$2"; shift ;;
    --ssh-from) [ "$#" -ge 2 ] || { echo "error: $1 needs a network" >&2; exit 2; }; ssh_from="$2"; shift ;;
    --monitoring-from) [ "$#" -ge 2 ] || { echo "error: $1 needs a network" >&2; exit 2; }; monitoring_from="$2"; shift ;;
    --apply) apply=1 ;;
    -y | --yes) yes=1 ;;
    *) echo "error: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
case "$backend" in ufw | nftables) ;; *) echo "error: --backend must be ufw or nftables" >&2; exit 2 ;; esac
if ! [[ "$ssh_port" =~ ^[0-9]+$ ]] || [ "$ssh_port" -lt 1 ] || [ "$ssh_port" -gt 65535 ]; then
  echo "error: bad --ssh-port $ssh_port" >&2
  exit 2
fi
for net in "$ssh_from" "$monitoring_from"; do
  [ -z "$net" ] || [[ "$net" =~ $cidr ]] || { echo "error: not an address or CIDR: $net" >&2; exit 2; }
done

# Added to the existing rules, never a reset: ufw skips rules it already has, so a re-run is harmless.
ufw_commands() {
  echo "ufw default deny incoming"
  echo "ufw default allow outgoing"
  # SSH first, so enabling the firewall never cuts the session that runs this.
  if [ -n "$ssh_from" ]; then echo "ufw allow from $ssh_from to any port $ssh_port proto tcp comment ssh"
  else echo "ufw limit $ssh_port/tcp comment ssh"; fi
  echo "ufw allow 80/tcp comment http-redirect-and-acme"
  echo "ufw allow 443/tcp comment https"
  if [ -n "$monitoring_from" ]; then
    echo "ufw allow from $monitoring_from to any port 9090 proto tcp comment prometheus"
    echo "ufw allow from $monitoring_from to any port 3000 proto tcp comment grafana"
  fi
  echo "ufw --force enable"
}

nft_family() { if [[ "$1" == *:* ]]; then echo ip6; else echo ip; fi; }

nft_ruleset() {
  local ssh_rule monitoring_rules=""
  if [ -n "$ssh_from" ]; then ssh_rule="$(nft_family "$ssh_from") saddr $ssh_from tcp dport $ssh_port accept"
  else ssh_rule="tcp dport $ssh_port ct state new limit rate 10/minute burst 20 packets accept"; fi
  if [ -n "$monitoring_from" ]; then
    monitoring_rules="        $(nft_family "$monitoring_from") saddr $monitoring_from tcp dport { 3000, 9090 } accept"
  fi
  cat <<NFT
# Authly host firewall (scripts/configure_firewall.sh). Only this table is replaced; Docker's own
# tables are left alone.
table inet authly_filter
delete table inet authly_filter
table inet authly_filter {
    chain input {
        type filter hook input priority 0; policy drop;
        ct state established,related accept
        ct state invalid drop
        iif lo accept
        ip protocol icmp accept
        ip6 nexthdr icmpv6 accept
        $ssh_rule
        tcp dport { 80, 443 } accept
${monitoring_rules}
    }
}
NFT
}

if [ "$backend" = ufw ]; then plan="$(ufw_commands)"; else plan="$(nft_ruleset)"; fi

if [ "$apply" -ne 1 ]; then
  echo "# Dry run ($backend): nothing is changed. Re-run with --apply to apply."
  echo "$plan"
  exit 0
fi

tool=ufw
[ "$backend" = ufw ] || tool=nft
command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "error: --apply needs root (sudo)" >&2; exit 1; }
echo "About to replace the host firewall ($backend) with:" >&2
echo "$plan" >&2
if [ "$yes" -ne 1 ]; then
  [ -t 0 ] || { echo "error: refusing to change the firewall without confirmation; run interactively or pass --yes" >&2; exit 1; }
  read -r -p "Apply these rules? Keep another SSH session open. [y/N] " answer
  [[ "$answer" =~ ^[Yy]$ ]] || { echo "Aborted." >&2; exit 1; }
fi

if [ "$backend" = ufw ]; then
  while IFS= read -r line; do
    read -r -a cmd <<<"$line"
    "${cmd[@]}"
  done <<<"$plan"
  ufw status verbose
else
  rules="$(mktemp)"
  trap 'rm -f "$rules"' EXIT
  echo "$plan" >"$rules"
  nft -c -f "$rules"
  nft -f "$rules"
  nft list table inet authly_filter
fi

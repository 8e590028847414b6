#!/usr/bin/env bash
# Installs Debian 12's Docker engine, Compose and debootstrap, for the compose tests (tests/compose/)
# and for anyone who runs deploy/docker-compose*.yml on this machine. Safe to run again: apt is
# asked only for what is missing. Starts nothing: the tests start dockerd themselves.
#
# Debian's docker-compose is 1.29.2 (the Python one). The compose files are written so that it and
# Compose v2 (`docker compose`) both accept them (README, "Docker compose").
set -euo pipefail

wanted="docker.io docker-compose debootstrap iptables"
# shellcheck disable=SC2086
missing=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $wanted 2>/dev/null |
  awk '$2 != "installed" {print $1}' || true)
for p in $wanted; do
  dpkg-query -W "$p" >/dev/null 2>&1 || missing="$missing $p"
done
missing=$(echo $missing)

if [ -z "$missing" ]; then
  echo "install-docker: everything is installed"
  exit 0
fi
echo "install-docker: installing $missing"
[ "$(id -u)" -eq 0 ] || exec sudo "$0" "$@"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/usr/bin/env bash
# Installs the Debian packages Cicada builds, tests and packages with (dpkg-dev, binutils, xz-utils
# and groff-base for scripts/package.sh and its test). Idempotent; needs root (or sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PKGS="libcurl4-openssl-dev libncurses-dev zlib1g-dev pkg-config tmux nginx openssl redis-server dpkg-dev binutils xz-utils groff-base faketime"
missing=""
for p in $PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ] || [ "${CI:-}" = "true" ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq $PKGS >/dev/null
fi
# A real Prometheus for the --status-port test and headless Chromium for the HTML report's
# test, without recommends. Prometheus's Debian service is not started where there is no
# systemd; the test starts its own.
if ! dpkg -s prometheus >/dev/null 2>&1 || ! dpkg -s chromium >/dev/null 2>&1 || ! dpkg -s python3-venv >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  [ -n "$missing" ] || [ "${CI:-}" = "true" ] || $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends prometheus chromium python3 python3-venv >/dev/null
fi

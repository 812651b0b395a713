#!/usr/bin/env bash
# `kohorte serve` puts its dashboard processes behind Debian's HAProxy (kohorte/ops/
# haproxy.cfg); install it when it is missing.
set -euo pipefail
if command -v haproxy >/dev/null; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "haproxy fehlt: bitte 'sudo apt-get install -y haproxy' ausführen." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends haproxy >/dev/null
haproxy -v | head -1

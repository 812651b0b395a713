#!/usr/bin/env bash
# Installs Debian packages the project needs when what they provide is missing:
#   scripts/ensure-debian.sh [--no-recommends] <command or path> <package>...
# The real-browser tests drive chromium (Playwright cannot download here), the report
# tests render pages with poppler's pdftoppm, `kohorte serve` runs HAProxy.
set -euo pipefail
recommends=()
if [ "${1:-}" = "--no-recommends" ]; then recommends=(--no-install-recommends); shift; fi
provides="$1"; shift
if command -v "$provides" >/dev/null || [ -x "$provides" ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "$provides fehlt: bitte 'sudo apt-get install -y $*' ausführen." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${recommends[@]}" "$@" >/dev/null
echo "installiert: $*"

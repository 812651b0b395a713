#!/usr/bin/env bash
# The report tests and the look at a report's pages render PDFs with Debian's pdftoppm
# (poppler-utils); install it when it is missing.
set -euo pipefail
if command -v pdftoppm >/dev/null; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "pdftoppm fehlt: bitte 'sudo apt-get install -y poppler-utils' ausführen." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq poppler-utils fonts-dejavu-core >/dev/null
pdftoppm -v 2>&1 | head -1

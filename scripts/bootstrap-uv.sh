#!/usr/bin/env bash
# Installs uv into .tools/ with pip when it is not on PATH (fresh machines, CI).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v uv >/dev/null 2>&1; then exit 0; fi
python3 -m venv .tools
.tools/bin/python -m pip install --quiet --disable-pip-version-check uv
.tools/bin/uv --version

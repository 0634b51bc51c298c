#!/usr/bin/env bash
# Create (once) and print the path of the project's cached virtualenv.
# The folder name carries a hash of requirements-dev.txt, so a change of pins builds a new one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${FLYTESEC_CACHE:-$HOME/.cache/flytesec}
PY=${PYTHON:-python3}
h=$(cat "$ROOT/requirements-dev.txt" "$ROOT/requirements.txt" | sha256sum | cut -c1-12)
V="$CACHE/venv-$($PY -c 'import sys;print("%d.%d"%sys.version_info[:2])')-$h"
if [ ! -x "$V/bin/ansible-playbook" ] || [ ! -f "$V/.complete" ]; then
  echo "[venv] creating $V" >&2
  rm -rf "$V"
  $PY -m venv "$V"
  export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$HOME/.cache/pip}
  "$V/bin/pip" install -q --disable-pip-version-check --upgrade pip >&2
  "$V/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt" >&2
  touch "$V/.complete"
fi
echo "$V"

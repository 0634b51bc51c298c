#!/usr/bin/env bash
# checkov (PyPI) in its own cached virtualenv: it pins many dependencies that must not disturb the
# project's venv. Used by tests/integration/test_checkov_crosscheck.py as an independent scanner.
# stdout: the checkov executable's path (only); progress goes to stderr.
set -euo pipefail
CHECKOV_VERSION=3.3.30
CACHE=${FLYTESEC_CACHE:-$HOME/.cache/flytesec}
V="$CACHE/checkov-$CHECKOV_VERSION"
if [ ! -x "$V/bin/checkov" ]; then
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.checkov.lock"
  flock -w 900 9
  if [ ! -x "$V/bin/checkov" ]; then
    echo "[checkov] installing checkov $CHECKOV_VERSION into $V" >&2
    export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$HOME/.cache/pip}
    rm -rf "$V"
    python3 -m venv "$V"
    # the executable is checked above, so a half-finished install is redone next time
    "$V/bin/pip" install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION" >&2 || { rm -rf "$V"; exit 1; }
  fi
fi
echo "$V/bin/checkov"

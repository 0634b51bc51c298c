#!/usr/bin/env bash
# Install (once) the bench-only packages of benchmarks/requirements.txt (matplotlib) into a cached folder of their
# own and print its path; benchmarks/bench.py --pkgs puts it on sys.path. The project's virtualenv (hack/venv.sh)
# is left as it is: its folder is keyed by requirements-dev.txt, and this one by benchmarks/requirements.txt and
# that virtualenv's path.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${FLYTESEC_CACHE:-$HOME/.cache/flytesec}
VENV=$(bash "$ROOT/hack/venv.sh")
h=$( (cat "$ROOT/benchmarks/requirements.txt"; echo "$VENV") | sha256sum | cut -c1-12)
D="$CACHE/bench-pkgs-$h"
if [ ! -f "$D/.complete" ]; then
  echo "[bench] installing benchmarks/requirements.txt into $D" >&2
  rm -rf "$D"
  export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$HOME/.cache/pip}
  "$VENV/bin/pip" install -q --disable-pip-version-check --target "$D" -r "$ROOT/benchmarks/requirements.txt" >&2
  touch "$D/.complete"
fi
echo "$D"

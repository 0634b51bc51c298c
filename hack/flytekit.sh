#!/usr/bin/env bash
# A virtualenv with flytekit (pyflyte's library), kept apart from the Ansible tool chain, for the live tests:
# they list projects through the client config that roles/flyte_client_config writes, as pyflyte would.
#   hack/flytekit.sh        stdout: the virtualenv's python
set -euo pipefail
FLYTEKIT_VERSION=${FLYTEKIT_VERSION:-1.16.31}
FLYTESEC_CACHE=${FLYTESEC_CACHE:-$HOME/.cache/flytesec}
PY=${PYTHON:-python3}
V="$FLYTESEC_CACHE/flytekit-$FLYTEKIT_VERSION-py$($PY -c 'import sys;print("%d.%d"%sys.version_info[:2])')"
if [ ! -f "$V/.complete" ]; then
  echo "[flytekit] creating $V" >&2
  rm -rf "$V"
  $PY -m venv "$V"
  export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$HOME/.cache/pip}
  "$V/bin/pip" install -q --disable-pip-version-check "flytekit==$FLYTEKIT_VERSION" >&2
  touch "$V/.complete"
fi
echo "$V/bin/python"

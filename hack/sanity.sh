#!/usr/bin/env bash
# ansible-test sanity without Docker: --venv against the local Python, in a workspace whose
# path ends in ansible_collections/flytesec/hardening. ansible-test bootstraps pip in its
# virtualenvs with a get-pip script it downloads from a host this machine cannot reach; we
# put an offline stand-in (hack/get_pip_standin.py) where ansible-test looks for its cache.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
V=$(bash "$ROOT/hack/venv.sh")
export PATH="$V/bin:$PATH"
PIPVER=$("$V/bin/python" -c 'import ansible_test, os, re
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip=.([0-9.]+).", src).group(1).replace(".", "_"))')
mkdir -p "$HOME/.ansible/test/cache"
cp "$ROOT/hack/get_pip_standin.py" "$HOME/.ansible/test/cache/get_pip_${PIPVER}.py"
DEST=$(bash "$ROOT/hack/workspace.sh")
cd "$DEST"
exec ansible-test sanity --venv --python "$("$V/bin/python" -c 'import sys;print("%d.%d"%sys.version_info[:2])')" --color no "$@"

#!/usr/bin/env bash
# Install the built collection artifact into a temporary collections path (kubernetes.core
# comes from the `ansible` package) and render the documentation of every module from there.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
V=$(bash "$ROOT/hack/venv.sh")
ARTIFACT=${1:?artifact}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$V/bin/ansible-galaxy" collection install --offline --no-deps -p "$TMP" "$ARTIFACT" >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$TMP" ANSIBLE_NOCOLOR=1
"$V/bin/ansible-galaxy" collection list flytesec.hardening -p "$TMP"
n=0
for f in "$ROOT"/plugins/modules/*.py; do
  [ -e "$f" ] || continue
  m=$(basename "$f" .py)
  out=$("$V/bin/ansible-doc" -t module "flytesec.hardening.$m")
  grep -q "^> MODULE flytesec.hardening.$m" <<<"$out" || { echo "ansible-doc did not render $m" >&2; exit 1; }
  grep -q "EXAMPLES:" <<<"$out" || { echo "$m has no EXAMPLES" >&2; exit 1; }
  grep -q "RETURN VALUES:" <<<"$out" || { echo "$m has no RETURN" >&2; exit 1; }
  n=$((n + 1))
done
for r in "$ROOT"/roles/*/; do
  [ -e "$r/meta/argument_specs.yml" ] || continue
  "$V/bin/ansible-doc" -t role "flytesec.hardening.$(basename "$r")" >/dev/null
done
echo "install-check: artifact installed; ansible-doc rendered $n module(s)"

#!/usr/bin/env bash
# Check execution-environment.yml without a container engine: `ansible-builder create` writes the
# build context; the context must hold the collection artifact, the Python and system requirements,
# the galaxy requirements, and a Containerfile that installs them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
V=$(bash "$ROOT/hack/venv.sh")
CTX="$ROOT/build/ee-context"
rm -rf "$CTX"
cd "$ROOT"
"$V/bin/ansible-builder" create --file execution-environment.yml --context "$CTX" --output-filename Containerfile >/dev/null
fail() { echo "ee-check: $*" >&2; exit 1; }
[ -f "$CTX/Containerfile" ] || fail "no Containerfile generated"
ARTIFACT=$(find "$ROOT/build" -maxdepth 1 -name "flytesec-hardening-*.tar.gz" | sort | tail -1)
IN_CTX="$CTX/_build/collection/$(basename "$ARTIFACT")"
[ -f "$IN_CTX" ] || fail "the collection artifact is not in the build context ($IN_CTX)"
cmp -s "$IN_CTX" "$ARTIFACT" || fail "the artifact in the context differs from build/"
for f in requirements.txt bindep.txt requirements.yml; do
  [ -n "$(find "$CTX/_build" -name "$f" -print -quit)" ] || fail "$f missing from the build context"
done
grep -q "ansible-galaxy collection install /tmp/collection/flytesec-hardening-\*.tar.gz" "$CTX/Containerfile" ||
  fail "the Containerfile does not install the collection"
grep -q "ee-base:latest" "$CTX/Containerfile" || fail "unexpected base image"
echo "ee-check: build context OK ($CTX)"

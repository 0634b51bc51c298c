#!/usr/bin/env bash
# Copy the checkout to ~/.cache/flytesec/ws-*/ansible_collections/flytesec/hardening (ansible-test needs that
# path and a real directory, not a symlink) and link kubernetes.core next to it.
# Prints the collection directory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
V=$(bash "$ROOT/hack/venv.sh")
# Outside the checkout: inside it, ansible-test would ask git and see only ignored files.
WS="${FLYTESEC_CACHE:-$HOME/.cache/flytesec}/ws-$(printf %s "$ROOT" | sha256sum | cut -c1-8)/ansible_collections"
DEST="$WS/flytesec/hardening"
mkdir -p "$DEST" "$WS/kubernetes"
# Start clean but keep ansible-test's own cache (tests/output).
find "$DEST" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
[ -d "$DEST/tests" ] && find "$DEST/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
# Only what git would ship (tracked + untracked-but-not-ignored), so build output never leaks in.
# (a file deleted in the work tree but still in the index is left out)
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
   if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done) |
  tar -C "$ROOT" --null -T - -cf - | tar -C "$DEST" -xf -
KC=$("$V/bin/python" -c 'import ansible_collections.kubernetes.core as m; print(list(m.__path__)[0])')
ln -sfn "$KC" "$WS/kubernetes/core"
echo "$DEST"

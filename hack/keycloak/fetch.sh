#!/usr/bin/env bash
# Download and unpack Keycloak (org.keycloak:keycloak-quarkus-dist, tar.gz) once, with Maven's dependency plugin.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/keycloak/versions.sh
. "$HERE/versions.sh"
if [ -x "$KC_HOME/bin/kc.sh" ]; then echo "$KC_HOME"; exit 0; fi
mkdir -p "$KC_DIR"
start=$(date +%s)
mvn -B -q -Dmaven.repo.local="$FLYTESEC_CACHE/m2" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
  -Dartifact="org.keycloak:keycloak-quarkus-dist:$KC_VERSION:tar.gz" -DoutputDirectory="$KC_DIR" >&2
tar -xzf "$KC_DIR/keycloak-quarkus-dist-$KC_VERSION.tar.gz" -C "$KC_DIR"
rm -f "$KC_DIR/keycloak-quarkus-dist-$KC_VERSION.tar.gz"
echo "[keycloak] fetched $KC_VERSION in $(( $(date +%s) - start ))s" >&2
echo "$KC_HOME"

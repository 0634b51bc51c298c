# shellcheck shell=bash
# Keycloak for the IdP tests: the Quarkus distribution from Maven Central, cached under ~/.cache.
KC_VERSION=${KC_VERSION:-26.5.5}
FLYTESEC_CACHE=${FLYTESEC_CACHE:-$HOME/.cache/flytesec}
KC_DIR="$FLYTESEC_CACHE/keycloak/$KC_VERSION"
KC_HOME="$KC_DIR/keycloak-$KC_VERSION"
# Keycloak 26 supports Java 17, 21 and 25 (25 recommended); prefer a newer JDK when the machine has one.
if [ -z "${KC_JAVA_HOME:-}" ]; then
  for j in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-amd64; do
    if [ -x "$j/bin/java" ]; then KC_JAVA_HOME=$j; break; fi
  done
fi
export KC_VERSION KC_DIR KC_HOME KC_JAVA_HOME

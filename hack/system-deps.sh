#!/usr/bin/env bash
# the ShellCheck program for ansible-test's shell sanity test, openssl for the local cluster's PKI,
# chromium for the HTML report test, PostgreSQL and gcc for the live Flyte tests.
set -euo pipefail
need=()
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v openssl >/dev/null || need+=(openssl)
command -v git >/dev/null || need+=(git)
# headless Chromium opens the audit's HTML report (tests/integration/test_report_html.py)
command -v chromium >/dev/null || need+=(chromium)
# the live Flyte tests: PostgreSQL for flyteadmin, gcc for the cgo build, unshare/runuser for the harness
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v gcc >/dev/null || need+=(gcc)
command -v unshare >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing packages: ${need[*]} (run as root or install them)" >&2; exit 1; fi
  echo "[deps] installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

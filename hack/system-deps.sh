#!/usr/bin/env bash
# the ShellCheck program for ansible-test's shell sanity test, openssl for the local cluster's PKI,
# chromium for the HTML report test.
set -euo pipefail
need=()
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v openssl >/dev/null || need+=(openssl)
command -v git >/dev/null || need+=(git)
# headless Chromium opens the audit's HTML report (tests/integration/test_report_html.py)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing packages: ${need[*]} (run as root or install them)" >&2; exit 1; fi
  echo "[deps] installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Installs Debian's chromium for the end-to-end browser tests (Playwright drives this binary; it never
# downloads a browser of its own). Without root and without chromium the browser tests skip and say so.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-browser: chromium is missing and this is not root; browser tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version

#!/usr/bin/env bash
# Installs the Debian tools that tests and benches drive: newsboat (the real Google Reader API client of the
# app tests, in its "feedhq" mode), tmux (drives newsboat's interface headless) and wrk (the load generator
# of bench/). Without root and without a tool, the tests needing it skip and say why.
set -euo pipefail
missing=()
for tool in newsboat tmux wrk; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-tools: ${missing[*]} missing and this is not root; tests needing them will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null

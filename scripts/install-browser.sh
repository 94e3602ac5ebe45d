#!/usr/bin/env bash
# Installs headless Chromium for the report rendering test (tests/unit/report). Safe to run again.
# scripts/test.sh runs this only in CI or with ARBITER_BROWSER_TESTS=1; without it that test skips.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: chromium"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium

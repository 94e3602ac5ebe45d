#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Headless Chromium for the report rendering test (it skips without one): in CI, or when asked.
if [ -n "${CI:-}" ] || [ "${ARBITER_BROWSER_TESTS:-}" = "1" ]; then scripts/install-browser.sh; fi
scripts/build.sh release arbiter_tests
ctest --preset release -j "$(nproc)" "$@"

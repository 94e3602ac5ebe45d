#!/usr/bin/env bash
# clang-14 with its sanitizer and libFuzzer runtimes, for scripts/fuzz.sh. Safe to run again.
set -euo pipefail
missing=()
for p in clang-14 libclang-rt-14-dev python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

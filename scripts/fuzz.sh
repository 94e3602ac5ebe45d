#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang-14, ASan + UBSan) and runs each for SECONDS
# seconds (default 600), seeded with shrunk copies of the GGUF and safetensors files in ../shared and
# with the Parquet files in tests/data/parquet.
# Crashes are written to build/fuzz/crashes/<target>/; the grown corpus stays in build/fuzz/corpus/.
#
# usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail

seconds="${1:-600}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${ARBITER_SHARED_DIR:-$root/../shared}"
build="$root/build/fuzz"

(cd "$root" && cmake --preset fuzz >/dev/null)
cmake --build "$build" -j2 --target fuzz_gguf fuzz_safetensors fuzz_parquet

seeds="$build/seeds"
rm -rf "$seeds"
python3 "$root/scripts/fuzz_seeds.py" "$shared" "$seeds/fuzz_gguf" "$seeds/fuzz_safetensors"
mkdir -p "$seeds/fuzz_parquet"
cp "$root"/tests/data/parquet/*.parquet "$seeds/fuzz_parquet/"

status=0
for target in fuzz_gguf fuzz_safetensors fuzz_parquet; do
  corpus="$build/corpus/$target"
  crashes="$build/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  echo "== $target: ${seconds}s"
  # New inputs go to the first directory (the corpus); the seeds are read only.
  if ! "$build/$target" "$corpus" "$seeds/$target" -max_total_time="$seconds" -max_len=65536 \
      -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$crashes/" -print_final_stats=1; then
    echo "$target found a failure; reproduce with: $build/$target $crashes/<file>" >&2
    status=1
  fi
done
exit $status

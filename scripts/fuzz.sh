#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang-14, ASan + UBSan) and runs each for SECONDS
# seconds (default 600), seeded with shrunk copies of the GGUF and safetensors files in ../shared, with
# the Parquet files in tests/data/parquet, and with one request body per serve route.
# Crashes are written to build/fuzz/crashes/<target>/; the grown corpus stays in build/fuzz/corpus/.
#
# usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail

seconds="${1:-600}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${ARBITER_SHARED_DIR:-$root/../shared}"
build="$root/build/fuzz"

(cd "$root" && cmake --preset fuzz >/dev/null)
targets=(fuzz_gguf fuzz_safetensors fuzz_parquet fuzz_serve_request)
cmake --build "$build" -j2 --target "${targets[@]}"

seeds="$build/seeds"
rm -rf "$seeds"
python3 "$root/scripts/fuzz_seeds.py" "$shared" "$seeds/fuzz_gguf" "$seeds/fuzz_safetensors"
mkdir -p "$seeds/fuzz_parquet"
cp "$root"/tests/data/parquet/*.parquet "$seeds/fuzz_parquet/"
# fuzz_serve_request: the first byte picks the route (0 reward, 1 pooling, 2 score, 3 judge), the rest is the body.
mkdir -p "$seeds/fuzz_serve_request"
serve_seed() { printf '%b%s' "$2" "$3" > "$seeds/fuzz_serve_request/$1"; }
serve_seed reward '\x00' '{"query": ["User: hi\nAssistant: hello", "a"], "prompts": ["User: hi"]}'
serve_seed pooling '\x01' '{"model": "m", "input": [[1, 2, 3], "text"], "truncate_prompt_tokens": 2}'
serve_seed pooling-messages '\x01' '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}'
serve_seed score '\x02' '{"pairs": [{"prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}], "response": "r"}], "conversations": [[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]]}'
serve_seed score-ids '\x02' '{"input_ids": [[1, 15043, 3186]]}'
serve_seed judge '\x03' '{"items": [{"prompt": "p", "response": "r", "rubric": "x", "reference": "y"}], "per_layer": true}'

status=0
for target in "${targets[@]}"; do
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

#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang-14, ASan + UBSan) and runs each for SECONDS
# seconds (default 600), seeded with shrunk copies of the GGUF and safetensors files in ../shared, with
# the Parquet files in tests/data/parquet, with one request body per serve route, with HTTP request heads,
# with the chat templates of ../shared's tokenizers (and a Jinja dictionary), with the tokenizers'
# reference texts, with their tokenizer.json files shrunk, with the fixture models whole
# (fuzz_gguf_model loads and runs what the parser accepts), with the fixtures' config.json files, and
# with dataset rows (HelpSteer2, RewardBench, ProcessBench-style steps, ...).
# Crashes are written to build/fuzz/crashes/<target>/; the grown corpus stays in build/fuzz/corpus/.
# The targets run side by side, one per core (FUZZ_JOBS=N to choose).
#
# usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail

seconds="${1:-600}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${ARBITER_SHARED_DIR:-$root/../shared}"
build="$root/build/fuzz"

(cd "$root" && cmake --preset fuzz >/dev/null)
targets=(fuzz_gguf fuzz_gguf_model fuzz_hf_config fuzz_safetensors fuzz_parquet fuzz_serve_request fuzz_chat_template fuzz_tokenize
         fuzz_tokenizer_json fuzz_dataset_row fuzz_http_head)
cmake --build "$build" -j2 --target "${targets[@]}"

seeds="$build/seeds"
rm -rf "$seeds"
python3 "$root/scripts/fuzz_seeds.py" "$shared" "$seeds/fuzz_gguf" "$seeds/fuzz_safetensors"
# fuzz_gguf_model: the Q8_0 fixtures whole (200-250 KB each), so the model binds and runs.
mkdir -p "$seeds/fuzz_gguf_model"
cp "$shared"/fixtures/gguf/*.q8_0.gguf "$seeds/fuzz_gguf_model/"
# fuzz_hf_config: every config.json of the fixtures (five architectures, causal and classifier heads).
mkdir -p "$seeds/fuzz_hf_config"
for config in "$shared"/fixtures/hf/*/config.json; do
  cp "$config" "$seeds/fuzz_hf_config/$(basename "$(dirname "$config")").json"
done
# ... and the qwen2 one as the reward model classes on Qwen2 (two-layer heads, a value head) and as
# OpenRLHF's RewardModel.
for class in Qwen2ForRewardModel Qwen2ForProcessRewardModel Qwen2ForPrmModel RewardModel; do
  sed "s/Qwen2ForCausalLM/$class/" "$shared/fixtures/hf/qwen2/config.json" > "$seeds/fuzz_hf_config/$class.json"
done
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
serve_seed score-steps '\x02' '{"pairs": [{"prompt": "q", "steps": ["a", "b"]}, {"prompt": "q", "response": "r"}]}'
serve_seed judge '\x03' '{"items": [{"prompt": "p", "response": "r", "rubric": "x", "reference": "y"}], "per_layer": true}'

# fuzz_http_head: a connection's bytes: pipelined requests, a body, an Expect, a refused framing.
mkdir -p "$seeds/fuzz_http_head"
printf 'POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET /health HTTP/1.1\r\n\r\n' > "$seeds/fuzz_http_head/pipelined"
printf 'POST /get_reward HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello' > "$seeds/fuzz_http_head/continue"
printf 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' > "$seeds/fuzz_http_head/chunked"
printf '\r\nGET http://h/v1/models?x=1 HTTP/1.0\nConnection: keep-alive\n\n' > "$seeds/fuzz_http_head/absolute"

# fuzz_dataset_row: the first byte picks the schema and a field mapping, the rest is one row: the rows of
# the Parquet fixtures' expected output, the HelpSteer2 sample, and rows of the layouts without a fixture.
mkdir -p "$seeds/fuzz_dataset_row"
python3 - "$shared" "$root" "$seeds/fuzz_dataset_row" <<'PY'
import glob, hashlib, sys
shared, root, out = sys.argv[1], sys.argv[2], sys.argv[3]
rows = []
for path in glob.glob(f"{root}/tests/data/parquet/*.expected.jsonl") + [f"{shared}/data/helpsteer2-sample/sample.jsonl"]:
    rows += [line.strip() for line in open(path, encoding="utf-8") if line.strip()][:4]
rows += ['{"problem": "p", "steps": ["a", "b"], "label": 1}',
         '{"problem": "p", "steps": ["a", "b"], "step_labels": [true, 0.5]}',
         '{"input": "q Step 1: a \u043a\u0438\\nStep 2: b \u043a\u0438", "label": "q Step 1: a +\\nStep 2: b -", "task": "MATH"}',
         '{"question": {"problem": "p"}, "label": {"steps": [{"completions": [{"text": "a", "rating": 1}], "chosen_completion": 0, "human_completion": null}, {"completions": [{"text": "b", "rating": -1}, {"text": "c", "rating": 0}], "chosen_completion": null, "human_completion": null}], "finish_reason": "found_error"}}',
         '{"prompt": "p", "response_1": "a", "response_2": "b", "preference_strength": -2}',
         '{"context": [{"role": "user", "content": "q"}], "response1": "a", "response2": "b", "overall_preference": 1}',
         '{"chosen": "\\n\\nHuman: hi\\n\\nAssistant: yo", "rejected": "\\n\\nHuman: hi\\n\\nAssistant: no"}',
         '{"input_ids": [1, 2, 3]}']
for row in rows:
    for selector in (0, 1, 2, 3, 4, 5, 6, 7, 0x14, 0x26):
        data = bytes([selector]) + row.encode()
        open(f"{out}/{hashlib.sha1(data).hexdigest()[:12]}", "wb").write(data)
PY

# fuzz_chat_template: every chat template in ../shared (real Llama 3 and Qwen3 ones among them).
# fuzz_tokenize: the first byte picks the tokenizer and flags, the rest is a reference text.
python3 - "$shared" "$seeds" <<'PY'
import glob, hashlib, json, os, sys
shared, seeds = sys.argv[1], sys.argv[2]
os.makedirs(f"{seeds}/fuzz_chat_template", exist_ok=True)
os.makedirs(f"{seeds}/fuzz_tokenize", exist_ok=True)
for path in glob.glob(f"{shared}/fixtures/**/tokenizer_config.json", recursive=True):
    template = json.load(open(path, encoding="utf-8")).get("chat_template")
    if isinstance(template, str):
        data = template.encode()
        open(f"{seeds}/fuzz_chat_template/{hashlib.sha1(data).hexdigest()[:12]}", "wb").write(data)
for path in glob.glob(f"{shared}/fixtures/tokenizers/*/reference.json"):
    for i, text in enumerate(json.load(open(path, encoding="utf-8")).get("texts", [])):
        for selector in (0, 1, 2, 0x30):
            data = bytes([selector]) + text.encode("utf-8", "surrogatepass")
            open(f"{seeds}/fuzz_tokenize/{hashlib.sha1(data).hexdigest()[:12]}", "wb").write(data)
PY
# fuzz_tokenizer_json: the real tokenizer.json files shrunk to their first 300 tokens (the merges among
# them, a few added tokens, every normalizer, pre-tokenizer, post-processor and decoder kept), with the
# merges as strings and as pairs; and a three-token model without any of those.
python3 - "$shared" "$seeds/fuzz_tokenizer_json" <<'PY'
import json, os, sys
shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
for name in ("llama3", "qwen3"):
    j = json.load(open(f"{shared}/fixtures/tokenizers/{name}/tokenizer.json", encoding="utf-8"))
    model = j["model"]
    vocab = {token: i for token, i in model["vocab"].items() if i < 300}
    rules = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    kept = [r for r in rules if all(p in vocab for p in r.split(" ", 1)) and r.replace(" ", "", 1) in vocab]
    model["vocab"] = vocab
    added = j.get("added_tokens", [])[:3]
    for a, new_id in zip(added, range(300, 303)):
        a["id"] = new_id
    j["added_tokens"] = added
    for form, merges in (("strings", kept), ("pairs", [r.split(" ", 1) for r in kept])):
        model["merges"] = merges
        open(f"{out}/{name}-{form}.json", "w", encoding="utf-8").write(json.dumps(j, ensure_ascii=False))
tiny = {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}
open(f"{out}/tiny.json", "w").write(json.dumps(tiny))
PY
export ARBITER_SHARED_DIR="$shared"

# Each target is one process on one core, so the pass takes SECONDS x targets / FUZZ_JOBS; each
# target's log is printed whole, in order, when all are done.
parallel="${FUZZ_JOBS:-$(nproc)}"
logs="$build/logs"
rm -rf "$logs"
mkdir -p "$logs"
fuzz_one() {
  local target="$1" corpus="$build/corpus/$1" crashes="$build/crashes/$1"
  mkdir -p "$corpus" "$crashes"
  echo "== $target: ${seconds}s"
  # New inputs go to the first directory (the corpus); the seeds are read only.
  local extra=(-max_len=65536)
  [ "$target" = fuzz_chat_template ] && extra+=(-dict="$root/tests/fuzz/jinja.dict")
  [ "$target" = fuzz_gguf_model ] && extra=(-max_len=262144)
  "$build/$target" "$corpus" "$seeds/$target" "${extra[@]}" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$crashes/" -print_final_stats=1
}
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  (fuzz_one "$target" > "$logs/$target.log" 2>&1; echo $? > "$logs/$target.rc") &
done
wait

status=0
for target in "${targets[@]}"; do
  cat "$logs/$target.log"
  if [ "$(cat "$logs/$target.rc" 2>/dev/null)" != 0 ]; then
    echo "$target found a failure; reproduce with: $build/$target $build/crashes/$target/<file>" >&2
    status=1
  fi
done
exit $status

#!/usr/bin/env bash
# arbiter end to end: set up, download a judge model and HelpSteer2's validation split, judge each response's
# helpfulness (vanilla, expected and LAGER scores from the score-token logits of every layer), and print how
# each score agrees with the human ratings.
#
#   scripts/demo.sh                   Qwen2.5-0.5B-Instruct (Q8_0, 676 MB) judges the first 200 rows
#   DEMO_ROWS=50 scripts/demo.sh      fewer rows (faster)
#   DEMO_OFFLINE=1 scripts/demo.sh    do not try the network
#
# Without the network it runs the same pipeline on ../shared's tiny story model and 8 real HelpSteer2 rows,
# or, without ../shared, on a random-weight model from `arbiter create-model` and the 8 hand-written rows in
# scripts/demo_data: that checks that every step works; those numbers mean nothing.
# Environment: DEMO_ROWS (200), DEMO_OFFLINE, DEMO_OUT (output folder, build/demo), DEMO_SKIP_SETUP=1 (no
# package install or build), ARBITER (the binary, build/release/arbiter), HF_TOKEN, ARBITER_CACHE (see docs/pull.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rows=${DEMO_ROWS:-200}
out_dir=${DEMO_OUT:-$root/build/demo}
model_source=hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q8_0.gguf
data_source=hf://datasets/nvidia/HelpSteer2/validation.jsonl.gz
shared=$root/../shared

say() { printf '\n== %s\n' "$*" >&2; }

if [ "${DEMO_SKIP_SETUP:-0}" != 1 ]; then
  # The demo needs the command-line tool alone; scripts/test.sh builds the tests on top of it.
  say "setup: packages (scripts/install-deps.sh) and release build (scripts/build.sh release arbiter)"
  scripts/install-deps.sh
  scripts/build.sh release arbiter
fi
arbiter=${ARBITER:-$root/build/release/arbiter}
if [ ! -x "$arbiter" ]; then
  echo "demo: $arbiter is missing; run scripts/build.sh release arbiter" >&2
  exit 1
fi
mkdir -p "$out_dir"

# judge MODEL DATA OUT [OPTION...]: the first $rows rows, one grading prompt per response, score tokens 0..4.
judge() {
  rm -f "$3"
  "$arbiter" judge -m "$1" -i "$2" -o "$3" --template direct-helpfulness --score-tokens 0..4 --per-layer \
    --limit "$rows" "${@:4}"
}

# summary OUT: Spearman / Kendall / Pearson of each score against the human helpfulness, then per layer.
summary() {
  echo
  echo "== agreement with human helpfulness ratings: $(wc -l < "$1") rows judged, $1"
  for score in lager expected vanilla; do
    echo
    echo "-- $score score"
    "$arbiter" eval correlate --pred "$1" --pred-field "$score" --human "$1" --human-field human_helpfulness
  done
  echo
  echo "-- the three scores on the same rows: each difference from the vanilla score, paired"
  "$arbiter" eval compare --pred "$1" --fields vanilla,expected,lager --human-field human_helpfulness
  echo
  echo "-- per layer: expected score from each layer's score-token logits"
  "$arbiter" eval layers --input "$1" --human-field human_helpfulness
}

online=0
if [ "${DEMO_OFFLINE:-0}" != 1 ]; then
  say "pulling the judge model: $model_source"
  # A short connect timeout: without a network this fails in seconds and the demo goes offline.
  if model=$("$arbiter" pull "$model_source" --connect-timeout 10 --stall-timeout 60); then
    online=1
  else
    say "the model could not be downloaded: running offline"
  fi
fi

if [ "$online" = 1 ]; then
  say "pulling HelpSteer2 validation: $data_source"
  data=$("$arbiter" pull "$data_source" --connect-timeout 10 --stall-timeout 60)
  out=$out_dir/helpsteer2-validation-qwen2.5-0.5b-instruct-q8_0-$rows.jsonl
  say "judging the first $rows rows with Qwen2.5-0.5B-Instruct (Q8_0)"
  judge "$model" "$data" "$out"
  summary "$out"
  exit 0
fi

offline_note="OFFLINE PIPELINE CHECK: stories260K is a 260K-parameter model trained on children's stories; it
cannot grade anything, so the scores and correlations below are meaningless. They show that pulling aside,
every step of the pipeline runs. Connect to the internet (or set HF_ENDPOINT to a mirror) for the real demo."

if [ -f "$shared/models/stories260K/stories260K.gguf" ] && [ -f "$shared/data/helpsteer2-sample/sample.jsonl" ]; then
  say "offline: judging ../shared's 8 HelpSteer2 rows with the tiny stories260K model"
  echo "$offline_note" >&2
  out=$out_dir/offline-helpsteer2-sample-stories260K.jsonl
  # One grading prompt there is 2156 tokens, past the 2048 the model declares; RoPE has no hard limit, and
  # for a pipeline check that is enough.
  judge "$shared/models/stories260K/stories260K.gguf" "$shared/data/helpsteer2-sample/sample.jsonl" "$out" --max-length 4096
  echo
  echo "$offline_note"
  summary "$out"
  exit 0
fi

# No network and no ../shared: a random-weight model made by arbiter itself (with the repository's byte-level
# tokenizer) judges the bundled hand-written rows.
say "offline, no ../shared: judging scripts/demo_data/helpfulness-mini.jsonl with a random-weight model"
random_note="OFFLINE PIPELINE CHECK: the judge is a tiny model with random weights made by \`arbiter create-model\`;
the scores and correlations below are meaningless. They show that every step of the pipeline runs.
Connect to the internet (or set HF_ENDPOINT to a mirror) for the real demo."
echo "$random_note" >&2
model_dir=$out_dir/random-tiny-llama
"$arbiter" create-model --shape tiny --arch llama --tokenizer "$root/scripts/demo_data/byte-tokenizer" --seed 7 -o "$model_dir"
out=$out_dir/offline-helpfulness-mini-random.jsonl
judge "$model_dir" "$root/scripts/demo_data/helpfulness-mini.jsonl" "$out"
echo
echo "$random_note"
summary "$out"

// arbiter info: what a model file is (architecture, sizes, parameters, tensor types, tokenizer,
// template), or with --data, what a dataset file is (format, rows, detected schema, fields, columns).
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/model_source.h"
#include "cli/run_record.h"
#include "data/describe.h"
#include "fetch/fetch.h"
#include "fetch/hf_dataset.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/fingerprint.h"
#include "model/model_tokenizer.h"
#include "runtime/cpu/matmul.h"

namespace arbiter::cli {

namespace {

struct InfoArgs {
  std::string model_path, data_path;
  bool json = false;
};

nlohmann::ordered_json describe(const Model& m) {
  const ModelConfig& c = m.config;
  nlohmann::ordered_json j;
  j["path"] = m.path;
  // A split GGUF: every file its tensors come from.
  if (m.gguf && m.gguf->files().size() > 1) j["files"] = m.gguf->files();
  j["format"] = c.source_format;
  j["architecture"] = architecture_name(c.arch);
  j["head"] = !c.is_classifier()  ? "causal-lm"
              : c.process_reward   ? "process-reward"
              : c.gating.enabled   ? "gated-objectives"
                                   : "sequence-classification";
  if (c.is_classifier()) {
    j["num_labels"] = c.num_labels;
    j["labels"] = c.label_names;
    j["head_layers"] = c.score_mlp ? 2 : 1;  // 2: Linear + ReLU + Linear
    if (c.process_reward) j["step_tag"] = c.step_tag;
    if (c.gating.enabled) {
      j["gating_layers"] = c.gating.layers;
      j["gating_hidden"] = c.gating.hidden;
      j["gating_temperature"] = c.gating.temperature;
    }
    if (c.reward_at_eos) j["reward_read_at"] = "eos";  // OpenRLHF's reward models (docs/formats.md)
    if (c.reward_std > 0) j["reward_normalization"] = {{"mean", c.reward_mean}, {"std", c.reward_std}};
  }
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["num_layers"] = c.num_layers;
  j["num_heads"] = c.num_heads;
  j["num_kv_heads"] = c.num_kv_heads;
  j["head_dim"] = c.head_dim;
  j["intermediate_size"] = c.intermediate_size;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rope_theta"] = c.rope_theta;
  j["rope_scaling"] = c.rope_scaling == RopeScaling::kLlama3 ? "llama3"
                      : c.rope_scaling == RopeScaling::kLinear ? "linear"
                      : c.rope_freqs_from_tensor ? "per-frequency factors (rope_freqs.weight)" : "none";
  j["tied_embeddings"] = c.tie_embeddings;
  // Whether next-token logits mean anything: what judge needs, and what a classifier may lack.
  j["lm_head"] = m.lm_head_missing ? "none (a classifier saved without one: cannot judge)"
                 : m.lm_head.data == m.token_embedding.data ? "the token embedding (tied)"
                                                             : "its own";
  j["sliding_window"] = c.sliding_window;
  j["parameters"] = m.parameter_count();
  // What run records, features files, trained heads and the server's /v1/models know this model by.
  j["fingerprint"] = model_fingerprint(m);

  std::map<std::string, int64_t> type_counts;
  auto count = [&](const TensorView& t) {
    if (t.data != nullptr) type_counts[dtype_name(t.dtype)] += 1;
  };
  count(m.token_embedding);
  if (m.lm_head.data != m.token_embedding.data) count(m.lm_head);
  for (const LayerWeights& w : m.layers)
    for (const TensorView* t : {&w.wq, &w.wk, &w.wv, &w.wo, &w.w_gate, &w.w_up, &w.w_down}) count(*t);
  j["matrix_types"] = type_counts;
  // The arithmetic this machine's CPU backend gives these matrices under the current --cpu-matmul.
  std::map<std::string, std::string> arithmetic;
  for (const auto& entry : type_counts) {
    const Result<DType> type = dtype_from_name(entry.first);
    if (type) arithmetic[entry.first] = matmul_precision_name(effective_matmul_precision(*type));
  }
  j["cpu_matmul"] = arithmetic;
  // What one position's keys and values take on the CPU (f32, every layer): a sequence's KV cache, and the
  // unit of --prefix-cache-mb.
  j["kv_bytes_per_token"] = 2 * c.num_layers * c.kv_dim() * int64_t(sizeof(float));

  const TextAssets assets = describe_text_assets(m);
  j["tokenizer"] = assets.tokenizer_kind.empty() ? "none" : assets.tokenizer_kind;
  j["chat_template"] = assets.has_chat_template;
  return j;
}

Status run_info(const InfoArgs& args) {
  if (args.model_path.empty() && args.data_path.empty()) return error("give a model (-m) or a dataset (--data)");
  if (!args.model_path.empty() && !args.data_path.empty())
    return error("give a model (-m) or a dataset (--data), not both: info describes one at a time");
  nlohmann::ordered_json j;
  if (!args.data_path.empty()) {
    ARB_ASSIGN(j, data::describe_dataset(args.data_path));
    // A scored file: what scored it, from its run record.
    if (const auto record = read_run_record(args.data_path)) {
      if (args.json) j["run_record"] = *record;
      else j["scored_by"] = describe_run_record(*record).substr(std::string("scored by ").size());
    }
  } else {
    ARB_ASSIGN(auto model, load_model(args.model_path));
    j = describe(*model);
  }
  if (args.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return Status::ok();
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string value = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    std::printf("%-24s %s\n", it.key().c_str(), value.c_str());
  }
  return Status::ok();
}

Status print_dataset_sets(const std::string& source, const std::vector<fetch::DatasetFileSet>& sets, bool json) {
  if (json) {
    nlohmann::ordered_json j = {{"source", source}, {"sets", nlohmann::ordered_json::array()}};
    for (const auto& set : sets) j["sets"].push_back({{"source", set.source}, {"files", set.files.size()}, {"bytes", set.bytes}});
    std::printf("%s\n", j.dump(2).c_str());
    return Status::ok();
  }
  std::printf("%s holds %zu sets of data files (pass one as the dataset):\n", source.c_str(), sets.size());
  for (const auto& set : sets)
    std::printf("  %s  (%zu %s, %s)\n", set.source.c_str(), set.files.size(), set.files.size() == 1 ? "file" : "files",
                fetch::describe_size(set.bytes).c_str());
  return Status::ok();
}

const CommandRegistration kInfoRegistration({
    "info",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<InfoArgs>();
      sub.add_option("-m,--model", args->model_path, "GGUF file or Hugging Face model directory, or one to download: hf://ORG/REPO, hf://ORG/REPO/FILE.gguf, https://...");
      sub.add_option("--data", args->data_path,
                     "a dataset file instead (JSONL, JSON, either .gz, or Parquet), or hf://datasets/ORG/REPO[/FOLDER]: "
                     "its sets of data files when it has several");
      sub.add_flag("--json", args->json, "print JSON");
      return [args]() -> Status {
        ARB_TRY(pull_model_source(args->model_path));
        // A dataset repository of several sets: which ones there are is the answer.
        if (fetch::is_hf_dataset_selection(args->data_path) && args->data_path.find_first_of("*?[") == std::string::npos) {
          fetch::FetchOptions options;
          fetch::apply_environment(options);
          // Without the listing (offline, the Hub down) the pull below says what there is to say.
          const auto sets = fetch::list_dataset_sets(args->data_path, options);
          if (sets.is_ok() && sets->size() > 1) return print_dataset_sets(args->data_path, *sets, args->json);
        }
        ARB_TRY(pull_data_source(args->data_path));
        return run_info(*args);
      };
    },
    "describe a model (architecture, sizes, tensor types, tokenizer, chat template) or a dataset (--data)",
    10,
});

}  // namespace

}  // namespace arbiter::cli

// arbiter create-model: a random-weight model at a named shape, written as a Hugging Face directory,
// optionally with a real tokenizer and chat template copied in. For tests, demos and benchmarks: its
// outputs mean nothing, but every stage of a pipeline runs on it exactly as on a trained model.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "cli/command.h"
#include "cli/option_checks.h"
#include "core/log.h"
#include "model/hf_writer.h"
#include "model/model_tokenizer.h"
#include "model/random_model.h"
#include "text/tokenizer.h"

namespace arbiter::cli {

namespace {

namespace fs = std::filesystem;

struct CreateModelArgs {
  std::string shape = "tiny", arch = "llama", head = "causal", labels, tokenizer_dir, out, type = "f32";
  int64_t vocab = 0;
  bool vocab_given = false;
  uint64_t seed = 42;
  float weight_std = 0.2f;
};

Status run_create_model(const CreateModelArgs& args) {
  if (args.vocab_given && args.vocab <= 0) return error("--vocab must be a positive number of tokens, not " + std::to_string(args.vocab));
  int64_t vocab = args.vocab_given ? args.vocab : 512;
  std::shared_ptr<Tokenizer> tokenizer;
  if (!args.tokenizer_dir.empty()) {
    ARB_ASSIGN(tokenizer, load_tokenizer_at(args.tokenizer_dir));
    if (!args.vocab_given) vocab = tokenizer->vocab_size();
    // The tokenizer's ids index the embeddings: a smaller table would fail at the first text that uses them.
    if (vocab < tokenizer->vocab_size())
      return error("--vocab " + std::to_string(vocab) + " is smaller than the tokenizer's " +
                   std::to_string(tokenizer->vocab_size()) + " tokens (" + args.tokenizer_dir + ")");
  }
  if (!args.labels.empty() && args.head != "seqcls") return error("--labels names a seqcls head's outputs: give --head seqcls");
  ARB_ASSIGN(ModelConfig config, shape_preset(args.shape, vocab));
  if (args.arch == "llama") config.arch = Architecture::kLlama;
  else if (args.arch == "mistral") config.arch = Architecture::kMistral;
  else if (args.arch == "qwen2") config.arch = Architecture::kQwen2, config.qkv_bias = true;
  else if (args.arch == "qwen3") config.arch = Architecture::kQwen3, config.qkv_bias = false, config.qk_norm = true;
  else return error("--arch must be llama, mistral, qwen2 or qwen3");
  if (args.head == "seqcls") {
    config.head = HeadKind::kSequenceClassification;
    config.tie_embeddings = false;
    if (!args.labels.empty()) {
      for (size_t start = 0; start <= args.labels.size();) {
        size_t end = args.labels.find(',', start);
        if (end == std::string::npos) end = args.labels.size();
        const std::string label = args.labels.substr(start, end - start);
        if (label.empty()) return error("--labels '" + args.labels + "': an empty name");
        if (std::find(config.label_names.begin(), config.label_names.end(), label) != config.label_names.end())
          return error("--labels '" + args.labels + "': '" + label + "' is named twice (each output needs its own name)");
        config.label_names.push_back(label);
        start = end + 1;
      }
    } else {
      config.label_names = {"score"};
    }
    config.num_labels = int64_t(config.label_names.size());
  } else if (args.head != "causal") {
    return error("--head must be causal or seqcls");
  }
  if (tokenizer) {
    config.bos_token_id = tokenizer->bos_id().value_or(-1);
    config.eos_token_id = tokenizer->eos_id().value_or(-1);
    config.pad_token_id = tokenizer->pad_id().value_or(-1);
  }
  config.max_position_embeddings = 4096;
  ARB_ASSIGN(DType type, dtype_from_name(args.type));
  if (type != DType::F32 && type != DType::BF16 && type != DType::F16) return error("--type must be f32, f16 or bf16");
  if (!(args.weight_std > 0.0f) || !std::isfinite(args.weight_std))
    return error("--weight-std must be a positive number (got " + std::to_string(args.weight_std) + ")");
  ARB_ASSIGN(auto model, make_random_model(config, type, args.seed, args.weight_std));
  ARB_TRY(write_hf_model(*model, args.out));
  if (!args.tokenizer_dir.empty()) {
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "tokenizer.model", "added_tokens.json", "chat_template.jinja"}) {
      const fs::path from = fs::path(args.tokenizer_dir) / name;
      if (!fs::exists(from)) continue;
      std::error_code ec;
      fs::copy_file(from, fs::path(args.out) / name, fs::copy_options::overwrite_existing, ec);
      if (ec) return error(from.string() + ": cannot copy: " + ec.message());
    }
  }
  log_info("wrote a random-weight " + std::string(architecture_name(config.arch)) + " " + args.shape +
           (config.is_classifier() ? " sequence classifier" : " causal LM") + " to " + args.out);
  return Status::ok();
}

const CommandRegistration kCreateModelRegistration({
    "create-model",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<CreateModelArgs>();
      sub.add_option("--shape", args->shape, "tiny, small, qwen2.5-0.5b, llama-3.2-1b, llama-3-8b")->default_val("tiny");
      sub.add_option("--arch", args->arch, "llama, mistral, qwen2, qwen3")->default_val("llama");
      sub.add_option("--head", args->head, "causal or seqcls")->default_val("causal");
      sub.add_option("--labels", args->labels, "seqcls output names, e.g. helpfulness,correctness,coherence,complexity,verbosity")->check(non_empty());
      sub.add_option("--tokenizer", args->tokenizer_dir, "copy this directory's tokenizer files (sets the vocabulary size)");
      auto* vocab = sub.add_option("--vocab", args->vocab, "vocabulary size (default: the tokenizer's, else 512)");
      sub.add_option("--type", args->type, "f32, f16 or bf16")->default_val("f32");
      sub.add_option("--seed", args->seed, "random seed")->default_val(42)->check(non_negative_number());
      sub.add_option("--weight-std", args->weight_std,
                     "standard deviation of the matrices' random weights (smaller: a smoother, less chaotic model)")
          ->default_val(0.2f);
      sub.add_option("-o,--out", args->out, "output directory")->required();
      return [args, vocab] {
        args->vocab_given = vocab->count() > 0;
        return run_create_model(*args);
      };
    },
    "write a random-weight model (HF directory) for tests, demos and benchmarks",
    95,
});

}  // namespace

}  // namespace arbiter::cli

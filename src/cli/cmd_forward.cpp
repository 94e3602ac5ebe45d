// arbiter forward: one sequence through the model, every position's residual stream per layer, the
// final norm, logits or classifier scores, written as safetensors with the reference fixtures' names.
#include <map>

#include "cli/command.h"
#include "cli/model_source.h"
#include "cli/device_option.h"
#include "cli/model_options.h"
#include "cli/model_text.h"
#include "core/log.h"
#include "io/safetensors.h"
#include "model/model_path.h"
#include "runtime/backend.h"

namespace arbiter::cli {

namespace {

struct ForwardArgs {
  std::string model_path, tokens, text, layers = "all", out, device = "cpu";
  bool add_special = false;
};

Status run_forward(const ForwardArgs& args) {
  if (model_reads_file(args.model_path, args.out))
    return error("--out " + args.out + " is a file of the model " + args.model_path + ": writing it would replace the model");
  ARB_ASSIGN(auto model, load_model(args.model_path));
  const ModelConfig& c = model->config;
  SequenceInput seq;
  if (!args.tokens.empty()) {
    ARB_ASSIGN(seq.tokens, parse_int_list(args.tokens, "--tokens"));
  } else {
    ARB_ASSIGN(seq.tokens, encode_text_for_model(*model, args.text, args.add_special));
  }
  if (seq.tokens.empty()) return error("no tokens to run (empty --tokens or --text)");
  const int64_t t = int64_t(seq.tokens.size()), d = c.hidden_size;
  for (int32_t p = 0; p < t; ++p) seq.read_positions.push_back(p);

  ForwardOptions options;
  ARB_ASSIGN(options.capture_layers, parse_layer_list(args.layers, c.num_layers));
  options.final_norm = true;
  options.logits = c.is_classifier() ? LogitsMode::kNone : LogitsMode::kFull;
  options.score_head = c.is_classifier();
  ARB_ASSIGN(auto backend, make_command_backend(model, args.device));
  ARB_ASSIGN(auto outputs, backend->forward({seq}, options));
  const SequenceOutput& out = outputs[0];

  std::vector<OwnedTensor> tensors;
  tensors.push_back(make_i32_tensor("input_ids", {t}, seq.tokens));
  for (size_t i = 0; i < options.capture_layers.size(); ++i) {
    std::vector<float> rows(out.layer_states.begin() + int64_t(i) * t * d, out.layer_states.begin() + int64_t(i + 1) * t * d);
    tensors.push_back(make_f32_tensor("layer" + std::to_string(options.capture_layers[i]), {t, d}, rows));
  }
  tensors.push_back(make_f32_tensor("final_norm", {t, d}, out.final_norm));
  if (c.is_classifier()) {
    // The head's output at the last token, as sequence classification reads it.
    std::vector<float> last(out.scores.end() - c.num_labels, out.scores.end());
    tensors.push_back(make_f32_tensor("scores", {c.num_labels}, last));
  } else {
    tensors.push_back(make_f32_tensor("logits", {t, c.vocab_size}, out.logits));
  }
  std::map<std::string, std::string> metadata{{"model", args.model_path}, {"architecture", architecture_name(c.arch)}};
  ARB_TRY(write_safetensors(args.out, tensors, metadata));
  log_info("wrote " + std::to_string(tensors.size()) + " tensors for " + std::to_string(t) + " tokens to " + args.out);
  return Status::ok();
}

const CommandRegistration kForwardRegistration({
    "forward",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<ForwardArgs>();
      sub.add_option("-m,--model", args->model_path, "GGUF file or Hugging Face model directory, or one to download: hf://ORG/REPO, hf://ORG/REPO/FILE.gguf, https://...")->required();
      add_device_option(sub, args->device);
      auto* tokens = sub.add_option("--tokens", args->tokens, "comma-separated token ids");
      auto* text = sub.add_option("--text", args->text, "text to tokenize with the model's tokenizer");
      tokens->excludes(text);
      sub.add_flag("--add-special", args->add_special, "with --text: add BOS/EOS as the tokenizer's post-processor does")
          ->excludes(tokens);
      sub.add_option("--layers", args->layers, "layers to write: all, or a list such as 0,3,-1")->default_val("all");
      sub.add_option("-o,--out", args->out, "output .safetensors file")->required();
      return [args, tokens, text]() -> Status {
        ARB_TRY(pull_model_source(args->model_path));
        if (tokens->count() == 0 && text->count() == 0) return error("give --tokens or --text");
        return run_forward(*args);
      };
    },
    "run one sequence and write per-layer states, final norm and logits/scores (safetensors)",
    20,
});

}  // namespace

}  // namespace arbiter::cli

#include <algorithm>

#include "runtime/backend.h"
#include "runtime/greedy.h"

namespace arbiter {

const char* generation_end_name(GenerationEnd end) {
  switch (end) {
    case GenerationEnd::kAccepted: return "accepted";
    case GenerationEnd::kStopToken: return "stop_token";
    case GenerationEnd::kMaxTokens: return "max_tokens";
    case GenerationEnd::kContextFull: return "context_full";
  }
  return "unknown";
}

Result<std::vector<Generation>> run_greedy(const Model& model, const std::vector<SequenceInput>& prompts,
                                           const GenerateOptions& options, const GreedyStep& step) {
  const ModelConfig& c = model.config;
  if (options.max_new_tokens < 1) return error("generation needs max_new_tokens >= 1");
  if (options.read.logits == LogitsMode::kFull)
    return error("generation reads selected logits only (the full logits of every step are not kept)");
  const int64_t context = c.max_position_embeddings > 0 ? c.max_position_embeddings : INT64_MAX;
  std::vector<std::vector<int32_t>> texts(prompts.size());
  std::vector<Generation> generations(prompts.size());
  std::vector<size_t> active;
  for (size_t s = 0; s < prompts.size(); ++s) {
    if (prompts[s].tokens.empty()) return error("prompt " + std::to_string(s) + " is empty");
    if (int64_t(prompts[s].tokens.size()) >= context)
      return error("prompt " + std::to_string(s) + " has " + std::to_string(prompts[s].tokens.size()) +
                   " tokens: no room to write within the model's context of " + std::to_string(context));
    texts[s] = prompts[s].tokens;
    active.push_back(s);
  }
  // Every step computes the full logits for the argmax; selected logits are read from them.
  ForwardOptions step_options = options.read;
  step_options.logits = LogitsMode::kFull;
  const std::vector<int32_t>& selected = options.read.logit_token_ids;

  while (!active.empty()) {
    ARB_ASSIGN(std::vector<SequenceOutput> outputs, step(active, texts, step_options));
    if (outputs.size() != active.size()) return error("generation step returned the wrong number of outputs");
    std::vector<size_t> still_active;
    for (size_t i = 0; i < active.size(); ++i) {
      const size_t s = active[i];
      SequenceOutput& out = outputs[i];
      if (out.logits.size() != size_t(c.vocab_size)) return error("generation step returned no full logits");
      const int32_t token = int32_t(std::max_element(out.logits.begin(), out.logits.end()) - out.logits.begin());
      std::vector<float> picked;
      if (options.read.logits == LogitsMode::kSelected)
        for (int32_t id : selected) picked.push_back(out.logits[size_t(id)]);
      out.logits = std::move(picked);

      Generation& g = generations[s];
      g.read_position = int64_t(texts[s].size()) - 1;
      g.tokens.push_back(token);
      texts[s].push_back(token);
      const bool accepted = options.accept && options.accept(s, g.tokens, out);
      g.read = std::move(out);
      if (accepted) {
        g.end = GenerationEnd::kAccepted;
      } else if (std::find(options.stop_token_ids.begin(), options.stop_token_ids.end(), token) !=
                 options.stop_token_ids.end()) {
        g.end = GenerationEnd::kStopToken;
      } else if (int64_t(g.tokens.size()) >= options.max_new_tokens) {
        g.end = GenerationEnd::kMaxTokens;
      } else if (int64_t(texts[s].size()) >= context) {
        g.end = GenerationEnd::kContextFull;
      } else {
        still_active.push_back(s);
      }
    }
    active = std::move(still_active);
  }
  return generations;
}

Result<std::vector<Generation>> Backend::generate(const std::vector<SequenceInput>& prompts,
                                                  const GenerateOptions& options) {
  // No cache: every step runs each active sequence's whole prefix and reads its last position.
  return run_greedy(model(), prompts, options,
                    [this](const std::vector<size_t>& active, const std::vector<std::vector<int32_t>>& texts,
                           const ForwardOptions& step_options) -> Result<std::vector<SequenceOutput>> {
                      std::vector<SequenceInput> inputs;
                      for (size_t s : active) inputs.push_back(SequenceInput{texts[s], {}});
                      return forward(inputs, step_options);
                    });
}

}  // namespace arbiter

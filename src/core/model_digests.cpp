#include "core/model_digests.h"

namespace arbiter {

std::vector<std::string> describe_digest_differences(const ModelDigests& then, const ModelDigests& now,
                                                     const std::string& then_label, const std::string& now_label) {
  struct Kept {
    const char* what;
    const std::string& then;
    const std::string& now;
    const char* why;
  };
  const Kept kept[] = {
      {"the model's chat template", then.chat_template, now.chat_template,
       "edited in the model's files, or --chat-template / --plain now"},
      {"the model's tokenizer", then.tokenizer, now.tokenizer,
       "its tokenizer.json, tokenizer.model or tokenizer_config.json, or its GGUF tokenizer metadata, was edited"},
      {"the model's configuration", then.config, now.config,
       "its config.json or GGUF metadata was edited: RoPE, norms, head, special tokens, ..."}};
  std::vector<std::string> out;
  for (const Kept& k : kept)
    if (!k.then.empty() && k.then != k.now)
      out.push_back(std::string(k.what) + ": " + k.then + " " + then_label + ", " + (k.now.empty() ? "none" : k.now) + " " +
                    now_label + " (" + k.why + ")");
  return out;
}

}  // namespace arbiter

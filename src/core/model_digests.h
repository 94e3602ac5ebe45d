// Digests of what decides a run's sequences and outputs besides a model's weights: kept beside scored files
// (run records) and in features files, so that a resume after an edit of the model's files is refused.
// model/fingerprint.h computes them for a loaded model.
#pragma once

#include <string>
#include <vector>

namespace arbiter {

// 16 hex digits each: the model's own chat template (empty where it does not format the rows: another
// template given, a plain layout, or none), its tokenizer files (model_tokenizer.h's tokenizer_fingerprint)
// and its configuration (model/fingerprint.h's config_fingerprint).
struct ModelDigests {
  std::string chat_template, tokenizer, config;
};

// Each digest of `then` that `now` does not share, named with what changes it ("the model's tokenizer:
// 5e0c... then, 77ab... now (its tokenizer.json, ... was edited)"). A digest `then` lacks (kept before it
// was, or no own template) is not compared.
std::vector<std::string> describe_digest_differences(const ModelDigests& then, const ModelDigests& now,
                                                     const std::string& then_label = "then",
                                                     const std::string& now_label = "now");

}  // namespace arbiter

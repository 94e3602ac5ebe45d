// The JSON bodies the server accepts, parsed into plain structs before any model work. Parsing needs no
// model, so it is fuzzed on its own (tests/fuzz/fuzz_serve_request.cpp). Every error names the field and
// the item ("query[3] is number, expected a string"); the server answers it with 400.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "data/example.h"

namespace arbiter::serve {

// The body as a JSON object: invalid UTF-8, malformed JSON and non-objects are errors.
Result<nlohmann::json> parse_body(std::string_view body);

// Text to tokenize, or tokens given directly.
struct TextOrTokens {
  std::string text;
  std::vector<int32_t> tokens;
  bool tokenized = false;
};

// OpenRLHF's remote reward model: `query` holds whole texts (prompt and response already formatted);
// `prompts` and `labels` are accepted and not used by a reward model.
struct RewardRequest {
  std::vector<std::string> queries;
  // OpenRLHF's `prompts`, one per query when sent (else empty): the text each query starts with, before
  // the policy's response.
  std::vector<std::string> prompts;
};

// vLLM's /classify and /pooling: `input` is a string, a list of strings, a list of token ids, or a list
// of such lists; or `messages`, one conversation whose last message is the response.
struct PoolingRequest {
  std::string model;
  std::vector<TextOrTokens> inputs;
  std::vector<data::Turn> messages;   // non-empty: a chat request
  bool add_special_tokens = true;     // vLLM's default for completion-style inputs
  int64_t truncate_prompt_tokens = 0; // > 0: keep only the last N tokens (vLLM's left truncation)
};

// arbiter's /v1/score: `conversations` (message lists ending with the assistant's response), `pairs`
// ({prompt, response}, prompt a string or messages), or `input_ids` (token lists).
struct ScoreRequest {
  std::vector<data::Example> items;
};

// arbiter's /v1/judge: `items` of {prompt, response, rubric?, reference?}, or with `responses` (a list:
// each judged, or compared by a pairwise template); `per_layer` adds the [L+1, K] score-token logits.
struct JudgeRequest {
  std::vector<data::Example> items;
  bool per_layer = false;
};

Result<RewardRequest> parse_reward_request(const nlohmann::json& body);
Result<PoolingRequest> parse_pooling_request(const nlohmann::json& body);
Result<ScoreRequest> parse_score_request(const nlohmann::json& body);
Result<JudgeRequest> parse_judge_request(const nlohmann::json& body);

}  // namespace arbiter::serve

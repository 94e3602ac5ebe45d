// The tokens a judge's score is read from: labels such as "1".."5", their token ids, and the value each
// stands for.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "text/tokenizer.h"

namespace arbiter {

struct ScoreTokens {
  std::vector<std::string> labels;  // [K]
  std::vector<int32_t> ids;         // [K]
  std::vector<double> values;       // [K]
};

// spec: "1..5", "0..4", "1..10" (integer ranges) or a comma list "A,B,C" (values 1..K, or the numbers
// themselves when every label is a number). A label that tokenizes to several tokens is read through
// its first token (a SentencePiece word-start marker alone is skipped), which is only sound when no two
// labels share that token: that case is an error naming both.
Result<ScoreTokens> resolve_score_tokens(const Tokenizer& tokenizer, const std::string& spec);

// Ids given directly; values from `values_spec` ("1..K" by default).
Result<ScoreTokens> score_tokens_from_ids(const Tokenizer* tokenizer, const std::vector<int32_t>& ids,
                                          const std::vector<double>& values);

}  // namespace arbiter

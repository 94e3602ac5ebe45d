// Preference data from scored samples, the step between sampling and DPO-style training: each dataset
// row holds a prompt and N sampled responses, a scoring run (score or judge) scored every response, and
// each row becomes one (chosen, rejected) pair, its best and worst responses by a score field; or, for
// best-of-N fine-tuning (rejection sampling), its best response alone.
#pragma once

#include <cstddef>
#include <string>

#include "core/status.h"
#include "data/reader.h"

namespace arbiter {

struct PairsOptions {
  std::string scored_path;  // JSONL from score / judge: per row `id` and `responses` (or one response's fields)
  std::string data_path;    // the dataset that was scored, read with the same schema and field mapping
  data::ReaderOptions reader;
  std::string output_path;
  std::string field = "score";  // per-response score: "score", "lager", "expected", "attributes.helpfulness"
  double min_margin = 0.0;      // a pair needs best - worst > min_margin (equal scores never make a pair)
  bool best_only = false;       // write {prompt, response, score}: the best response per row
};

struct PairsSummary {
  size_t rows = 0;               // dataset rows read
  size_t written = 0;
  size_t not_scored = 0;         // dataset rows with no scored line (a --limit run), or an error line
  size_t too_few_responses = 0;  // pairs need two responses
  size_t below_margin = 0;       // best - worst not above min_margin
  size_t scored_not_in_data = 0; // scored ids the dataset does not have (the caller warns)
};

// Output rows, in dataset order: {"id", "prompt", "chosen", "rejected", "score_chosen", "score_rejected"}
// (best_only: {"id", "prompt", "response", "score"}). The prompt is a string when it is one user turn,
// else the message list, and the responses are then assistant messages ([{"role", "content"}]), the
// conversational layout preference trainers read. Both layouts read back as chosen / rejected pairs.
// Lines and rows are matched by id (the row's id field, else its 0-based position, as the scoring run
// wrote it). A scored line whose response count differs from its dataset row's, or that lacks the field,
// is an error naming the id.
Result<PairsSummary> build_preference_pairs(const PairsOptions& options);

}  // namespace arbiter

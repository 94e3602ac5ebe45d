// Data selection by score: keep the best (or worst) rows of a scored file, by count, fraction or
// threshold, as the LAGER paper's data-selection experiment keeps the top-scored training examples.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter {

struct SelectOptions {
  std::string scored_path;   // JSONL from score/judge
  std::string field;         // e.g. "lager", "score", "attributes.helpfulness"
  std::string top;           // "10%" or "100"; empty when threshold is used
  bool has_threshold = false;
  double threshold = 0;      // keep rows with value >= threshold (<= with bottom)
  bool bottom = false;       // keep the lowest instead
  std::string data_path;     // optional: output these dataset rows (matched by id, else by position)
  std::string id_field = "id";  // --data's id field (the scoring run's --field id=NAME)
  std::string output_path;
};

struct SelectSummary {
  size_t rows = 0, kept = 0, without_score = 0;
  double cutoff = 0;
};

Result<SelectSummary> select_rows(const SelectOptions& options);

// The number at a dotted path ("lager", "attributes.helpfulness") of a scored line or response;
// nullptr when absent or not a number. A one-element list ([2.5]) is its element.
const nlohmann::json* numeric_field(const nlohmann::json& row, const std::string& path);

}  // namespace arbiter

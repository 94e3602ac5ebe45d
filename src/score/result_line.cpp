#include "score/result_line.h"

#include <cmath>

#include "data/schema.h"

namespace arbiter {

void add_response_results(nlohmann::json& line, std::vector<nlohmann::json> per_response, const data::Example& example,
                          const std::string& rank_key) {
  const nlohmann::json& raw = example.raw;
  const bool has_chosen = raw.is_object() && raw.contains("chosen");
  // RewardBench 2 rows list their responses as strings; a row with one chosen and one rejected response
  // is still a best-of-N row, which the eval reads from `scores`, not a v1 pair. (A list of messages is
  // one conversation, whose last message is the response: a pair.)
  const bool best_of_n = has_chosen && data::lists_completions(raw["chosen"]);
  const bool one_response = per_response.size() == 1;
  if (per_response.size() == 1 && !best_of_n && !example.responses_listed) {
    line.update(per_response[0]);
  } else {
    bool ranked = true;
    for (const auto& r : per_response) ranked = ranked && r.contains(rank_key);
    if (ranked && !best_of_n && per_response.size() == 2 && has_chosen) {
      line["score_chosen"] = per_response[0][rank_key];
      line["score_rejected"] = per_response[1][rank_key];
    } else if (ranked && (best_of_n || per_response.size() > 2)) {
      nlohmann::json scores = nlohmann::json::array();
      for (const auto& r : per_response) scores.push_back(r[rank_key]);
      line["scores"] = scores;
      // The chosen responses come first: how many, so that `eval rmbench` can split the list.
      if (best_of_n) line["num_chosen"] = raw["chosen"].size();
    }
    line["responses"] = std::move(per_response);
  }
  for (const char* passthrough : {"subset", "num_correct", "domain"})
    if (raw.is_object() && raw.contains(passthrough)) line[passthrough] = raw[passthrough];
  for (const auto& [name, value] : example.labels) line["human_" + name] = value;
  // Per-step labels (null where unknown), for step-level evaluation of a process reward model.
  if (!example.step_labels.empty() && one_response) {
    nlohmann::json labels = nlohmann::json::array();
    for (double l : example.step_labels) labels.push_back(std::isnan(l) ? nlohmann::json(nullptr) : nlohmann::json(l));
    line["human_step_labels"] = labels;
  }
}

}  // namespace arbiter

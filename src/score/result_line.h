// The part of a scoring run's output line that reward and judge runs share: a row's per-response
// results, and the fields `arbiter eval rewardbench` reads, chosen by the row's layout.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "data/example.h"

namespace arbiter {

// Adds to `line`: a single response's fields merged in (a rated row), or `responses` with, for a
// RewardBench pair (string `chosen` / `rejected`), `score_chosen` and `score_rejected`, and for a
// best-of-N row (RewardBench 2: lists of response strings, whatever their count) or any row of more than two
// responses, `scores` in response order (correct ones first). `rank_key` names the response field the
// eval fields take; they are left out when a response lacks it. Then `subset`, `num_correct` and the
// human labels (`human_<name>`) of the row.
void add_response_results(nlohmann::json& line, std::vector<nlohmann::json> per_response, const data::Example& example,
                          const std::string& rank_key);

}  // namespace arbiter

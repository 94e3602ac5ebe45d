// Readers for the scored files the eval commands take: the rows a scoring run wrote (JSONL, JSON array,
// optionally gzipped, or Parquet), with the field names configurable. Errors name the file and line.
// The error lines of rows a run could not score (`{"id": ..., "error": "..."}`) are left out and
// counted in *error_rows when it is given: the caller says how many.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/layers.h"
#include "eval/preference.h"
#include "eval/process_bench.h"
#include "eval/rewardbench.h"
#include "eval/rm_bench.h"

namespace arbiter::eval {

// What a row is known by when files are compared row by row (eval compare), one entry per row read: its
// id field ("" where it has none), and its position among the file's rows, error lines counted, which
// is what pairs the rows of files without ids (an error line leaves its row out, and shifts no other).
struct RowKeys {
  std::vector<std::string> ids;
  std::vector<size_t> positions;
  // Every row with an id carries a row_digest: a scoring run's lines of dataset rows without ids, whose
  // ids are the rows' indices (so they pair with files known by position).
  bool index_ids = true;
};

struct PreferenceFields {
  std::string id = "id";          // optional
  std::string subset = "subset";  // "": rows without subsets
  std::string chosen = "score_chosen";
  std::string rejected = "score_rejected";
};

// RewardBench v1 rows: a subset name and two numbers. A chosen/rejected score given as a one-element
// list (as reward-bench writes it) is read as that element. `keys`, when given, gets each row's.
Result<std::vector<PreferenceRow>> read_preference_rows(const std::string& path, const PreferenceFields& fields,
                                                        size_t* error_rows = nullptr,
                                                        RowKeys* keys = nullptr);

struct BestOfNFields {
  std::string subset = "subset";
  std::string id = "id";
  std::string scores = "scores";            // list of numbers (or one-element lists), correct ones first
  std::string num_correct = "num_correct";  // absent: num_chosen (score and judge write it), else 1
};

// `keys`, when given, gets each row's (by `fields.id`).
Result<std::vector<BestOfNRow>> read_best_of_n_rows(const std::string& path, const BestOfNFields& fields,
                                                     size_t* error_rows = nullptr, RowKeys* keys = nullptr);

struct RmBenchFields {
  std::string scores = "scores";          // the chosen responses' scores, then the rejected ones'
  std::string num_chosen = "num_chosen";  // how many of `scores` are chosen (`arbiter score` writes it)
  std::string domain = "domain";          // absent: every row in one domain
  // A pairwise judge's rows (with `comparisons`): which credit of each comparison decides it.
  std::string comparison_score = "lager";
  bool use_comparisons = true;  // false: the win rates in `scores` even where comparisons are there
  std::string id = "id";        // for `keys`
};

// RM-Bench rows: `scores` split after `num_chosen` into chosen and rejected (each by style); where a row
// has a pairwise judge's `comparisons`, each chosen / rejected pair's mean credit from them instead (every
// such pair must have been compared). `keys`, when given, gets each row's (by `fields.id`).
Result<std::vector<RmBenchRow>> read_rm_bench_rows(const std::string& path, const RmBenchFields& fields,
                                                   size_t* error_rows = nullptr,
                                                   RowKeys* keys = nullptr);

// Rows with `per_layer_logits` [L+1][K], `score_values` [K] and the human label in `human_field`; or a
// pairwise judge's rows (`score_values` and `comparisons`), each comparison that has `human_field` as
// one item (those without it are left out: no human verdict for that pair).
Result<std::vector<LayerRow>> read_layer_rows(const std::string& path, const std::string& human_field,
                                              size_t* error_rows = nullptr);

// Pairs of a scored HelpSteer2-Preference / HelpSteer3 run: `responses[0][score_field]`,
// `responses[1][score_field]` and the human strength in `strength_field` (a scoring run writes it as
// human_preference_strength).
// A chosen / rejected row's line (it has score_chosen) without the strength field prefers its first
// response (strength -1), so that held-out chosen / rejected pairs are read as pairs too.
// `keys`, when given, gets each pair's.
Result<std::vector<PreferencePair>> read_preference_pairs(const std::string& path, const std::string& score_field,
                                                          const std::string& strength_field,
                                                          size_t* error_rows = nullptr,
                                                          RowKeys* keys = nullptr,
                                                          const std::string& id_field = "id");

// A process reward run's rows: `step_rewards` and the human first wrong step in `label_field` (a scoring
// run writes ProcessBench's `label` as human_first_error_step), with `subset` when present.
// `keys`, when given, gets each row's (by `id_field`).
Result<std::vector<StepRewardRow>> read_step_reward_rows(const std::string& path, const std::string& label_field,
                                                         size_t* error_rows = nullptr,
                                                         RowKeys* keys = nullptr,
                                                         const std::string& id_field = "id");

}  // namespace arbiter::eval

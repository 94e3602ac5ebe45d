// Pairwise judging: the judge sees two responses to one prompt (A first, B second) and answers with a
// label: A better, B better, or (with a third label) a tie. Each ordered comparison is read like a
// pointwise judgement whose score values are the credit of the response shown first (A 1, B 0, tie 0.5),
// so vanilla / expected / LAGER mean the same here: the first response's (expected) share of the win.
//
// Judges prefer one position over the other; showing every pair in both orders and averaging cancels
// that preference out of the scores, and how often the two orders agree measures it.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "core/status.h"
#include "data/example.h"

namespace arbiter {

struct Comparison {
  size_t first = 0, second = 0;  // response indices: shown as A, shown as B
};

// The comparisons of n responses: every unordered pair (i < j) as (i, j), and with both_orders also as
// (j, i) right after it. n must be at least 2. With `chosen` in 1..n-1 (the first `chosen` responses are
// chosen, the rest rejected), only the pairs of a chosen and a rejected response: what accuracy needs,
// without the comparisons among chosen or among rejected responses.
std::vector<Comparison> pairwise_comparisons(size_t n, bool both_orders, size_t chosen = 0);

// How many of a row's responses (chosen first) are chosen: a `chosen` list's length, 1 for a single chosen
// response, 0 when the row has no `chosen` field.
size_t chosen_response_count(const data::Example& example);

// The credit of the first response for each of k labels: [1, 0] (A, B) or [1, 0, 0.5] (A, B, tie).
Result<std::vector<double>> pairwise_label_values(size_t k);

// The first response's credit in one comparison, by score kind.
struct ComparisonCredit {
  double vanilla = 0, expected = 0, lager = 0;
};

struct PairwiseSummary {
  // [n] each response's mean credit over the comparisons it took part in (as A: the credit, as B: 1 - it):
  // a win rate in [0, 1]. For two responses, the two rates sum to 1.
  std::vector<ComparisonCredit> responses;
  // Of the unordered pairs shown in both orders, the share whose final-layer verdicts (vanilla) name the
  // same winner, or a tie both times; -1 when no pair was shown in both orders.
  double order_agreement = -1;
  size_t pairs_in_both_orders = 0, agreeing_pairs = 0;  // the counts behind order_agreement
};

// [n] how people rank the row's responses (higher is better), where the row says: chosen / rejected
// pairs [1, 0]; RewardBench 2 rows 1 for each chosen completion, 0 for each rejected one; preference
// rows by their strength's sign. Empty when the row carries no verdict.
std::vector<double> human_ranking(const data::Example& example);

// The first response's credit by people's verdict: 1 or 0, or nothing when the ranking does not tell the
// two apart (two rejected completions, a tie) or is empty.
std::optional<double> human_credit(const std::vector<double>& ranking, const Comparison& comparison);

PairwiseSummary summarize_comparisons(size_t n, const std::vector<Comparison>& comparisons,
                                      const std::vector<ComparisonCredit>& credits);

}  // namespace arbiter

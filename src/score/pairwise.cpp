#include "score/pairwise.h"

#include <algorithm>
#include <map>
#include <utility>

#include "data/schema.h"

namespace arbiter {

std::vector<Comparison> pairwise_comparisons(size_t n, bool both_orders, size_t chosen) {
  std::vector<Comparison> out;
  const bool across_only = chosen > 0 && chosen < n;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      if (across_only && (i >= chosen || j < chosen)) continue;
      out.push_back({i, j});
      if (both_orders) out.push_back({j, i});
    }
  return out;
}

size_t chosen_response_count(const data::Example& example) {
  const nlohmann::json& raw = example.raw;
  if (!raw.is_object() || !raw.contains("chosen")) return 0;
  return data::lists_completions(raw["chosen"]) ? raw["chosen"].size() : 1;
}

Result<std::vector<double>> pairwise_label_values(size_t k) {
  if (k == 2) return std::vector<double>{1.0, 0.0};
  if (k == 3) return std::vector<double>{1.0, 0.0, 0.5};
  return error("a pairwise judge needs 2 score labels (first better, second better) or 3 (and a tie), got " +
               std::to_string(k));
}

std::vector<double> human_ranking(const data::Example& example) {
  const size_t n = example.responses.size();
  const nlohmann::json& raw = example.raw;
  if (raw.is_object() && raw.contains("chosen")) {
    // Responses come chosen first: one for a pair, as many as the list holds for RewardBench 2.
    const size_t chosen = chosen_response_count(example);
    std::vector<double> ranking(n, 0.0);
    for (size_t i = 0; i < std::min(chosen, n); ++i) ranking[i] = 1.0;
    return ranking;
  }
  const auto strength = example.labels.find("preference_strength");
  if (strength != example.labels.end() && n == 2) {
    // Negative prefers response 1, positive response 2.
    if (strength->second < 0) return {1.0, 0.0};
    if (strength->second > 0) return {0.0, 1.0};
    return {0.0, 0.0};
  }
  return {};
}

std::optional<double> human_credit(const std::vector<double>& ranking, const Comparison& comparison) {
  if (comparison.first >= ranking.size() || comparison.second >= ranking.size()) return std::nullopt;
  const double a = ranking[comparison.first], b = ranking[comparison.second];
  if (a == b) return std::nullopt;
  return a > b ? 1.0 : 0.0;
}

PairwiseSummary summarize_comparisons(size_t n, const std::vector<Comparison>& comparisons,
                                      const std::vector<ComparisonCredit>& credits) {
  PairwiseSummary s;
  s.responses.assign(n, ComparisonCredit{});
  std::vector<size_t> counts(n, 0);
  auto add = [](ComparisonCredit& to, const ComparisonCredit& c, bool as_first) {
    to.vanilla += as_first ? c.vanilla : 1.0 - c.vanilla;
    to.expected += as_first ? c.expected : 1.0 - c.expected;
    to.lager += as_first ? c.lager : 1.0 - c.lager;
  };
  // The vanilla credit of the lower index of each unordered pair, per order it was shown in.
  std::map<std::pair<size_t, size_t>, std::vector<double>> verdicts;
  for (size_t c = 0; c < comparisons.size() && c < credits.size(); ++c) {
    const Comparison& cmp = comparisons[c];
    add(s.responses[cmp.first], credits[c], true);
    add(s.responses[cmp.second], credits[c], false);
    ++counts[cmp.first];
    ++counts[cmp.second];
    const bool lower_first = cmp.first < cmp.second;
    verdicts[{std::min(cmp.first, cmp.second), std::max(cmp.first, cmp.second)}].push_back(
        lower_first ? credits[c].vanilla : 1.0 - credits[c].vanilla);
  }
  for (size_t i = 0; i < n; ++i) {
    if (counts[i] == 0) continue;
    const double k = double(counts[i]);
    s.responses[i] = {s.responses[i].vanilla / k, s.responses[i].expected / k, s.responses[i].lager / k};
  }
  size_t both = 0, agree = 0;
  for (const auto& [pair, v] : verdicts) {
    if (v.size() < 2) continue;
    ++both;
    // Vanilla credits are exactly 1, 0 or 0.5, so equality is exact.
    if (v[0] == v[1]) ++agree;
  }
  if (both > 0) s.order_agreement = double(agree) / double(both);
  s.pairs_in_both_orders = both;
  s.agreeing_pairs = agree;
  return s;
}

}  // namespace arbiter

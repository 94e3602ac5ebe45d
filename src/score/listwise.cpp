#include "score/listwise.h"

#include <algorithm>

namespace arbiter {

std::vector<std::vector<size_t>> listwise_orders(size_t n, bool all_orders) {
  std::vector<std::vector<size_t>> orders;
  const size_t count = all_orders ? n : std::min<size_t>(n, 1);
  for (size_t r = 0; r < count; ++r) {
    std::vector<size_t> order(n);
    for (size_t j = 0; j < n; ++j) order[j] = (j + r) % n;
    orders.push_back(std::move(order));
  }
  return orders;
}

int human_best_position(const std::vector<double>& ranking, const std::vector<size_t>& order) {
  int best = -1;
  bool shared = false;
  for (size_t j = 0; j < order.size(); ++j) {
    if (order[j] >= ranking.size()) return -1;
    const double value = ranking[order[j]];
    if (best < 0 || value > ranking[order[size_t(best)]]) {
      best = int(j);
      shared = false;
    } else if (value == ranking[order[size_t(best)]]) {
      shared = true;
    }
  }
  return shared ? -1 : best;
}

ListwiseSummary summarize_listwise(size_t n, const std::vector<std::vector<size_t>>& orders,
                                   const std::vector<ListwiseRead>& reads) {
  ListwiseSummary s;
  s.vanilla.assign(n, 0.0);
  s.expected.assign(n, 0.0);
  s.lager.assign(n, 0.0);
  std::vector<size_t> picks(n, 0);
  const size_t count = std::min(orders.size(), reads.size());
  for (size_t o = 0; o < count; ++o) {
    const std::vector<size_t>& order = orders[o];
    const ListwiseRead& read = reads[o];
    // The first label of the highest probability, as an argmax of the logits picks it.
    const auto& p = read.final_probabilities;
    const size_t best_label = size_t(std::max_element(p.begin(), p.end()) - p.begin());
    ++picks[order[best_label]];
    for (size_t j = 0; j < order.size() && j < p.size(); ++j) {
      s.expected[order[j]] += p[j];
      if (j < read.lager_probabilities.size()) s.lager[order[j]] += read.lager_probabilities[j];
    }
  }
  if (count == 0) return s;
  for (size_t i = 0; i < n; ++i) {
    s.vanilla[i] = double(picks[i]) / double(count);
    s.expected[i] /= double(count);
    s.lager[i] /= double(count);
  }
  if (count > 1) s.order_agreement = double(*std::max_element(picks.begin(), picks.end())) / double(count);
  return s;
}

}  // namespace arbiter

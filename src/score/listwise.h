// Listwise judging (RewardBench 2's protocol for generative judges): the judge sees all of a row's N
// responses, labelled A, B, C, ... in one prompt, and names the best with its label. The label logits
// give a distribution over which response is best; judges prefer some positions, so the row is shown in
// N orders, each response once in each position (rotations of the list), and each response's scores
// are averaged over the orders:
//   vanilla  = the share of orders whose argmax label names it,
//   expected = its mean probability of being the best under the final layer's softmax over N labels,
//   lager    = the same under LAGER's combined logits.
#pragma once

#include <cstddef>
#include <vector>

namespace arbiter {

// order[j] = the response shown at position j (label j). Rotations r = 0..n-1: order[j] = (j + r) % n;
// only the first with all_orders false.
std::vector<std::vector<size_t>> listwise_orders(size_t n, bool all_orders);

// One order's reading: probabilities [n] over the labels shown, final layer and LAGER.
struct ListwiseRead {
  std::vector<double> final_probabilities, lager_probabilities;
};

struct ListwiseSummary {
  std::vector<double> vanilla, expected, lager;  // [n] per response, each summing to 1 over responses
  // The share of orders whose argmax names the response most orders named (1 when every order agrees);
  // -1 with a single order.
  double order_agreement = -1;
};

// The position in `order` of the response people rank best (`ranking`: a value per response, higher
// better, as human_ranking gives), or -1 when there is no ranking or the best is shared.
int human_best_position(const std::vector<double>& ranking, const std::vector<size_t>& order);

ListwiseSummary summarize_listwise(size_t n, const std::vector<std::vector<size_t>>& orders,
                                   const std::vector<ListwiseRead>& reads);

}  // namespace arbiter

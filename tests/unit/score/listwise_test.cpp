// Listwise judging's bookkeeping: the rotations a row is shown in, and how each order's label
// probabilities become each response's chance of being named the best.
#include "score/listwise.h"

#include <gtest/gtest.h>

namespace arbiter {
namespace {

TEST(ListwiseOrders, EveryResponseOnceInEveryPosition) {
  const auto orders = listwise_orders(4, true);
  ASSERT_EQ(orders.size(), 4u);
  EXPECT_EQ(orders[0], (std::vector<size_t>{0, 1, 2, 3}));
  EXPECT_EQ(orders[1], (std::vector<size_t>{1, 2, 3, 0}));
  for (size_t position = 0; position < 4; ++position) {
    std::vector<int> seen(4, 0);
    for (const auto& order : orders) ++seen[order[position]];
    EXPECT_EQ(seen, (std::vector<int>{1, 1, 1, 1})) << "position " << position;
  }
  const auto given = listwise_orders(4, false);
  ASSERT_EQ(given.size(), 1u);
  EXPECT_EQ(given[0], (std::vector<size_t>{0, 1, 2, 3}));
}

TEST(ListwiseSummary, ProbabilitiesFollowTheResponsesAroundTheRotations) {
  // Orders [0,1,2], [1,2,0], [2,0,1]; each read's probabilities are per label (position).
  const auto orders = listwise_orders(3, true);
  const double third = 1.0 / 3.0;
  const std::vector<ListwiseRead> reads = {{{0.6, 0.3, 0.1}, {third, third, third}},
                                           {{0.5, 0.2, 0.3}, {third, third, third}},
                                           {{0.2, 0.7, 0.1}, {third, third, third}}};
  const ListwiseSummary s = summarize_listwise(3, orders, reads);
  // Response 0 sits at labels 0, 2, 1: (0.6 + 0.3 + 0.7) / 3. Response 1 at 1, 0, 2: (0.3 + 0.5 + 0.1) / 3.
  EXPECT_DOUBLE_EQ(s.expected[0], 1.6 / 3.0);
  EXPECT_DOUBLE_EQ(s.expected[1], 0.9 / 3.0);
  EXPECT_DOUBLE_EQ(s.expected[2], 0.5 / 3.0);
  // Argmax labels 0, 0, 1 name responses 0, 1, 0.
  EXPECT_DOUBLE_EQ(s.vanilla[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.vanilla[1], 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.vanilla[2], 0.0);
  EXPECT_DOUBLE_EQ(s.order_agreement, 2.0 / 3.0);
  for (double l : s.lager) EXPECT_NEAR(l, third, 1e-15);
}

TEST(ListwiseSummary, OneOrderHasNoAgreement) {
  const auto orders = listwise_orders(2, false);
  const ListwiseSummary s = summarize_listwise(2, orders, {{{0.25, 0.75}, {0.5, 0.5}}});
  EXPECT_DOUBLE_EQ(s.expected[1], 0.75);
  EXPECT_DOUBLE_EQ(s.vanilla[1], 1.0);
  EXPECT_LT(s.order_agreement, 0.0);
}

}  // namespace
}  // namespace arbiter

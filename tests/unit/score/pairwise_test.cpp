// Pairwise judging's bookkeeping: which ordered comparisons a row gets, what each label is worth to the
// response shown first, and how comparisons add up to each response's win rates and the order agreement.
#include "score/pairwise.h"

#include <gtest/gtest.h>

namespace arbiter {
namespace {

TEST(PairwiseComparisons, EveryPairInBothOrdersOrOnlyAsGiven) {
  const auto both = pairwise_comparisons(3, true);
  ASSERT_EQ(both.size(), 6u);
  const size_t expected_both[6][2] = {{0, 1}, {1, 0}, {0, 2}, {2, 0}, {1, 2}, {2, 1}};
  for (size_t c = 0; c < 6; ++c) {
    EXPECT_EQ(both[c].first, expected_both[c][0]) << c;
    EXPECT_EQ(both[c].second, expected_both[c][1]) << c;
  }
  const auto given = pairwise_comparisons(3, false);
  ASSERT_EQ(given.size(), 3u);
  EXPECT_EQ(given[2].first, 1u);
  EXPECT_EQ(given[2].second, 2u);
  EXPECT_TRUE(pairwise_comparisons(1, true).empty());
}

TEST(PairwiseComparisons, ChosenAgainstRejectedOnly) {
  // 2 chosen (0, 1) and 2 rejected (2, 3): the four pairs across, none within.
  const auto across = pairwise_comparisons(4, false, 2);
  ASSERT_EQ(across.size(), 4u);
  const size_t expected[4][2] = {{0, 2}, {0, 3}, {1, 2}, {1, 3}};
  for (size_t c = 0; c < 4; ++c) {
    EXPECT_EQ(across[c].first, expected[c][0]) << c;
    EXPECT_EQ(across[c].second, expected[c][1]) << c;
  }
  EXPECT_EQ(pairwise_comparisons(4, true, 2).size(), 8u);
  EXPECT_EQ(pairwise_comparisons(6, true, 3).size(), 18u);
  // A count that does not split the responses means every pair.
  EXPECT_EQ(pairwise_comparisons(4, false, 0).size(), 6u);
  EXPECT_EQ(pairwise_comparisons(4, false, 4).size(), 6u);
}

TEST(PairwiseLabels, FirstBetterSecondBetterTie) {
  EXPECT_EQ(*pairwise_label_values(2), (std::vector<double>{1.0, 0.0}));
  EXPECT_EQ(*pairwise_label_values(3), (std::vector<double>{1.0, 0.0, 0.5}));
  auto four = pairwise_label_values(4);
  ASSERT_FALSE(four.is_ok());
  EXPECT_NE(four.message().find("got 4"), std::string::npos) << four.message();
}

TEST(PairwiseSummary, TwoResponsesBothOrders) {
  // Shown as (0, 1): A (response 0) wins with expected credit 0.8. Shown as (1, 0): A (response 1)
  // wins with 0.4, i.e. response 0 gets 0.6. Response 0: (0.8 + 0.6) / 2 = 0.7; response 1: 0.3.
  // Vanilla 1 then 0: response 0 wins as A, and as B (A's credit 0); the two orders agree.
  const auto comparisons = pairwise_comparisons(2, true);
  const std::vector<ComparisonCredit> credits = {{1.0, 0.8, 0.9}, {0.0, 0.4, 0.2}};
  const PairwiseSummary s = summarize_comparisons(2, comparisons, credits);
  ASSERT_EQ(s.responses.size(), 2u);
  EXPECT_DOUBLE_EQ(s.responses[0].vanilla, 1.0);
  EXPECT_DOUBLE_EQ(s.responses[0].expected, 0.7);
  EXPECT_DOUBLE_EQ(s.responses[0].lager, 0.85);
  EXPECT_DOUBLE_EQ(s.responses[1].vanilla, 0.0);
  EXPECT_DOUBLE_EQ(s.responses[1].expected, 0.3);
  EXPECT_DOUBLE_EQ(s.responses[1].lager, 0.15);
  EXPECT_DOUBLE_EQ(s.order_agreement, 1.0);
}

TEST(PairwiseSummary, PositionPreferenceShowsAsDisagreement) {
  // A judge that always answers "A": each response wins once and loses once.
  const auto comparisons = pairwise_comparisons(2, true);
  const std::vector<ComparisonCredit> credits = {{1.0, 0.9, 0.9}, {1.0, 0.9, 0.9}};
  const PairwiseSummary s = summarize_comparisons(2, comparisons, credits);
  EXPECT_DOUBLE_EQ(s.responses[0].vanilla, 0.5);
  EXPECT_DOUBLE_EQ(s.responses[1].vanilla, 0.5);
  EXPECT_DOUBLE_EQ(s.responses[0].expected, 0.5);
  EXPECT_DOUBLE_EQ(s.order_agreement, 0.0);
}

TEST(PairwiseSummary, ThreeResponsesAndTies) {
  // Comparisons (0,1) (1,0) (0,2) (2,0) (1,2) (2,1); vanilla credits of A, a tie (0.5) in (1,2) and (2,1).
  const auto comparisons = pairwise_comparisons(3, true);
  const std::vector<ComparisonCredit> credits = {{1, 1, 1}, {0, 0, 0}, {1, 1, 1}, {1, 1, 1}, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}};
  const PairwiseSummary s = summarize_comparisons(3, comparisons, credits);
  // Response 0: beats 1 twice, beats 2 once and loses once: (1 + 1 + 1 + 0) / 4.
  EXPECT_DOUBLE_EQ(s.responses[0].vanilla, 0.75);
  // Response 1: loses to 0 twice, ties 2 twice: (0 + 0 + 0.5 + 0.5) / 4.
  EXPECT_DOUBLE_EQ(s.responses[1].vanilla, 0.25);
  // Response 2: loses to 0 once, beats it once, ties 1 twice: (0 + 1 + 0.5 + 0.5) / 4.
  EXPECT_DOUBLE_EQ(s.responses[2].vanilla, 0.5);
  // Pairs {0,1} agree, {0,2} do not (each order's A won), {1,2} tie both times: agree.
  EXPECT_DOUBLE_EQ(s.order_agreement, 2.0 / 3.0);
}

TEST(PairwiseSummary, OneOrderHasNoAgreement) {
  const auto comparisons = pairwise_comparisons(2, false);
  const PairwiseSummary s = summarize_comparisons(2, comparisons, {{1.0, 0.75, 0.5}});
  EXPECT_DOUBLE_EQ(s.responses[0].expected, 0.75);
  EXPECT_DOUBLE_EQ(s.responses[1].expected, 0.25);
  EXPECT_DOUBLE_EQ(s.responses[1].lager, 0.5);
  EXPECT_LT(s.order_agreement, 0.0);
}

data::Example example(nlohmann::json raw, size_t responses) {
  data::Example e;
  e.raw = std::move(raw);
  e.responses.assign(responses, "r");
  return e;
}

TEST(HumanRanking, FromEachRowLayout) {
  EXPECT_EQ(human_ranking(example({{"chosen", "c"}, {"rejected", "r"}}, 2)), (std::vector<double>{1, 0}));
  // RewardBench 2: one chosen completion first, then three rejected ones.
  EXPECT_EQ(human_ranking(example({{"chosen", {"c"}}, {"rejected", {"x", "y", "z"}}}, 4)),
            (std::vector<double>{1, 0, 0, 0}));
  // A conversation (message list) is one chosen response, not a list of completions.
  const nlohmann::json messages = nlohmann::json::array({{{"role", "user"}, {"content", "q"}}, {{"role", "assistant"}, {"content", "a"}}});
  EXPECT_EQ(human_ranking(example({{"chosen", messages}, {"rejected", messages}}, 2)), (std::vector<double>{1, 0}));
  data::Example preference = example({{"response_1", "a"}, {"response_2", "b"}}, 2);
  preference.labels["preference_strength"] = -2;
  EXPECT_EQ(human_ranking(preference), (std::vector<double>{1, 0}));
  preference.labels["preference_strength"] = 3;
  EXPECT_EQ(human_ranking(preference), (std::vector<double>{0, 1}));
  preference.labels["preference_strength"] = 0;
  EXPECT_EQ(human_ranking(preference), (std::vector<double>{0, 0}));
  EXPECT_TRUE(human_ranking(example({{"prompt", "p"}, {"response_1", "a"}, {"response_2", "b"}}, 2)).empty());
}

TEST(HumanCredit, OnlyWherePeopleRankedTheTwoApart) {
  const std::vector<double> ranking = {1, 0, 0};
  EXPECT_EQ(human_credit(ranking, {0, 1}), 1.0);
  EXPECT_EQ(human_credit(ranking, {2, 0}), 0.0);
  EXPECT_FALSE(human_credit(ranking, {1, 2}).has_value());
  EXPECT_FALSE(human_credit({}, {0, 1}).has_value());
}

}  // namespace
}  // namespace arbiter

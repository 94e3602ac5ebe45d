// The output line's response fields by row layout: what `arbiter eval rewardbench` reads must be there
// for every RewardBench layout, including RewardBench 2 rows of one or two completions (its Ties subset
// has pairs), which are best-of-N rows, not v1 pairs.
#include "score/result_line.h"

#include <gtest/gtest.h>

namespace arbiter {
namespace {

using nlohmann::json;

data::Example example_with(json raw) {
  data::Example e;
  e.raw = std::move(raw);
  return e;
}

std::vector<json> responses(std::initializer_list<double> scores) {
  std::vector<json> out;
  for (const double s : scores) out.push_back({{"score", s}});
  return out;
}

TEST(ResultLine, RatedRowMergesItsOneResponse) {
  json line = {{"id", "a"}};
  data::Example e = example_with({{"prompt", "p"}, {"response", "r"}});
  e.labels["helpfulness"] = 3;
  add_response_results(line, responses({0.5}), e, "score");
  EXPECT_EQ(line, json({{"id", "a"}, {"score", 0.5}, {"human_helpfulness", 3.0}}));
}

TEST(ResultLine, RewardBenchPairGetsChosenAndRejectedScores) {
  json line = json::object();
  add_response_results(line, responses({2.0, 1.0}), example_with({{"chosen", "c"}, {"rejected", "r"}, {"subset", "hep-go"}}),
                       "score");
  EXPECT_EQ(line["score_chosen"], 2.0);
  EXPECT_EQ(line["score_rejected"], 1.0);
  EXPECT_FALSE(line.contains("scores"));
  EXPECT_EQ(line["subset"], "hep-go");
  EXPECT_EQ(line["responses"].size(), 2u);
}

TEST(ResultLine, BestOfNRowsGetScoresWhateverTheirCount) {
  for (const auto& [count, chosen, rejected] :
       {std::tuple{1, json::array({"c"}), json::array()}, std::tuple{2, json::array({"c"}), json::array({"r"})},
        std::tuple{4, json::array({"c"}), json::array({"r1", "r2", "r3"})}}) {
    SCOPED_TRACE(count);
    std::vector<json> per_response;
    for (int i = 0; i < count; ++i) per_response.push_back({{"score", double(i)}});
    json line = json::object();
    add_response_results(line, per_response,
                         example_with({{"chosen", chosen}, {"rejected", rejected}, {"num_correct", 1}, {"subset", "Ties"}}),
                         "score");
    ASSERT_TRUE(line.contains("scores")) << line.dump();
    EXPECT_EQ(line["scores"].size(), size_t(count));
    EXPECT_FALSE(line.contains("score_chosen"));
    EXPECT_EQ(line["num_correct"], 1);
  }
}

// Preference data as conversations (chosen and rejected each a list of messages ending in the
// response, as HH-RLHF and UltraFeedback publish it) is a pair, not a best-of-N row.
TEST(ResultLine, ConversationPairsAreRewardBenchPairs) {
  const json chosen = json::array({{{"role", "user"}, {"content", "2+2?"}}, {{"role", "assistant"}, {"content", "4"}}});
  const json rejected = json::array({{{"role", "user"}, {"content", "2+2?"}}, {{"role", "assistant"}, {"content", "5"}}});
  json line = json::object();
  add_response_results(line, responses({1.0, -1.0}), example_with({{"chosen", chosen}, {"rejected", rejected}}), "score");
  EXPECT_EQ(line["score_chosen"], 1.0);
  EXPECT_EQ(line["score_rejected"], -1.0);
  EXPECT_FALSE(line.contains("scores"));
}

TEST(ResultLine, ManyResponsesOfAGenericRowGetScores) {
  json line = json::object();
  add_response_results(line, responses({1, 2, 3}), example_with({{"prompt", "p"}}), "score");
  EXPECT_EQ(line["scores"], json({1.0, 2.0, 3.0}));
}

TEST(ResultLine, NoRankingFieldsWhenAResponseLacksTheKey) {
  json line = json::object();
  std::vector<json> per_response = {{{"attributes", {{"a", 1}}}}, {{"attributes", {{"a", 2}}}}};
  add_response_results(line, per_response, example_with({{"chosen", "c"}, {"rejected", "r"}}), "score");
  EXPECT_FALSE(line.contains("score_chosen"));
  EXPECT_FALSE(line.contains("scores"));
  EXPECT_EQ(line["responses"].size(), 2u);
}

}  // namespace
}  // namespace arbiter

#include "eval/layers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "eval/score_files.h"
#include "../../support/scratch_root.h"

namespace arbiter::eval {
namespace {

TEST(Layers, ExpectedScoreIsSoftmaxWeighted) {
  // Logits [0, ln 3] give probabilities [1/4, 3/4]: 1 * 0.25 + 2 * 0.75 = 1.75.
  LayerRow row{{{0.0, std::log(3.0)}, {1000.0, 1000.0}}, {1.0, 2.0}, 0.0};
  const auto expected = expected_scores_per_layer(row);
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_NEAR(expected[0], 1.75, 1e-15);
  EXPECT_NEAR(expected[1], 1.5, 1e-15);  // large equal logits: no overflow
}

TEST(Layers, PerLayerSpearmanFromAFile) {
  // Three layers: 0 constant (undefined), 1 follows the human label, 2 reverses it.
  const auto dir = arbiter::test::scratch_root() / ("arbiter_layers_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "layers.jsonl").string();
  std::ofstream(path) << R"({"id": "a", "per_layer_logits": [[0, 0], [0, -1], [0, 1]], "score_values": [1, 2], "human": 1})" "\n"
                         R"({"id": "b", "per_layer_logits": [[0, 0], [0, 0], [0, 0]], "score_values": [1, 2], "human": 2})" "\n"
                         R"({"id": "c", "per_layer_logits": [[0, 0], [0, 1], [0, -1]], "score_values": [1, 2], "human": 3})" "\n";
  auto rows = read_layer_rows(path, "human");
  ASSERT_TRUE(rows) << rows.message();
  auto result = layer_spearman(*rows);
  ASSERT_TRUE(result) << result.message();
  ASSERT_EQ(result->size(), 3u);
  EXPECT_TRUE(std::isnan((*result)[0].spearman));
  EXPECT_NEAR((*result)[1].spearman, 1.0, 1e-15);
  EXPECT_NEAR((*result)[2].spearman, -1.0, 1e-15);
}

TEST(Layers, PairwiseRowsGiveOneItemPerComparisonPeopleJudged) {
  // A pairwise judge's line: the second comparison has no human verdict (e.g. two rejected responses).
  const auto dir = arbiter::test::scratch_root() / ("arbiter_layers_pairwise_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "pairwise.jsonl").string();
  std::ofstream(path)
      << R"({"id": "a", "score_values": [1, 0], "comparisons": [)"
         R"({"a": 0, "b": 1, "human": 1, "per_layer_logits": [[0.5, 0], [2, 1]]},)"
         R"({"a": 1, "b": 2, "per_layer_logits": [[0, 0], [0, 0]]},)"
         R"({"a": 1, "b": 0, "human": 0, "per_layer_logits": [[0, 3], [1, 1]]}]})" "\n"
         R"({"id": "b", "error": "too long"})" "\n"
         R"({"id": "c", "score_values": [1, 0], "comparisons": [{"a": 0, "b": 1, "human": 1}]})" "\n";
  size_t error_rows = 0;
  auto rows = read_layer_rows(path, "human", &error_rows);
  ASSERT_FALSE(rows);  // row c's judged comparison has no logits
  EXPECT_NE(rows.message().find("comparisons[0]"), std::string::npos) << rows.message();
  EXPECT_NE(rows.message().find("per_layer_logits"), std::string::npos) << rows.message();

  std::ofstream(path, std::ios::trunc)
      << R"({"id": "a", "score_values": [1, 0], "comparisons": [)"
         R"({"a": 0, "b": 1, "human": 1, "per_layer_logits": [[0.5, 0], [2, 1]]},)"
         R"({"a": 1, "b": 2, "per_layer_logits": [[0, 0], [0, 0]]},)"
         R"({"a": 1, "b": 0, "human": 0, "per_layer_logits": [[0, 3], [1, 1]]}]})" "\n"
         R"({"id": "b", "error": "too long"})" "\n";
  rows = read_layer_rows(path, "human", &error_rows);
  ASSERT_TRUE(rows) << rows.message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(error_rows, 1u);
  EXPECT_EQ((*rows)[0].human, 1.0);
  EXPECT_EQ((*rows)[0].per_layer_logits, (std::vector<std::vector<double>>{{0.5, 0}, {2, 1}}));
  EXPECT_EQ((*rows)[0].score_values, (std::vector<double>{1, 0}));
  EXPECT_EQ((*rows)[1].human, 0.0);
  EXPECT_EQ((*rows)[1].per_layer_logits[0], (std::vector<double>{0, 3}));
}

TEST(Layers, ListwiseOrdersGiveOneBestFirstItemPerOrderPeopleJudged) {
  const auto dir = arbiter::test::scratch_root() / ("arbiter_layers_listwise_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "listwise.jsonl").string();
  // Two layers, three labels; people's best sits at label 2, then 1; the third order has no verdict.
  std::ofstream(path) << R"({"id": "a", "orders": [)"
                         R"({"order": [0, 1, 2], "human": 2, "per_layer_logits": [[1, 2, 3], [4, 5, 6]]},)"
                         R"({"order": [1, 2, 0], "human": 1, "per_layer_logits": [[7, 8, 9], [0, 1, 2]]},)"
                         R"({"order": [2, 0, 1], "per_layer_logits": [[0, 0, 0], [0, 0, 0]]}]})" "\n";
  auto rows = read_layer_rows(path, "human");
  ASSERT_TRUE(rows) << rows.message();
  ASSERT_EQ(rows->size(), 2u);
  // The best label's column first, the others in their order.
  EXPECT_EQ((*rows)[0].per_layer_logits, (std::vector<std::vector<double>>{{3, 1, 2}, {6, 4, 5}}));
  EXPECT_EQ((*rows)[1].per_layer_logits, (std::vector<std::vector<double>>{{8, 7, 9}, {1, 0, 2}}));
  for (const LayerRow& row : *rows) {
    EXPECT_TRUE(row.best_first);
    EXPECT_EQ(row.score_values, (std::vector<double>{1, 0, 0}));
    EXPECT_EQ(row.human, 1.0);
    EXPECT_EQ(row.group, 1u);
  }
  // A position outside the labels is named with its order.
  std::ofstream(path, std::ios::trunc) << R"({"id": "a", "orders": [)"
                                          R"({"order": [0, 1], "human": 0, "per_layer_logits": [[1, 2]]},)"
                                          R"({"order": [1, 0], "human": 2, "per_layer_logits": [[1, 2]]}]})" "\n";
  rows = read_layer_rows(path, "human");
  ASSERT_FALSE(rows);
  EXPECT_NE(rows.message().find("orders[1]"), std::string::npos) << rows.message();
  EXPECT_NE(rows.message().find("label position"), std::string::npos) << rows.message();
  // Listwise reads and rated rows in one file: refused.
  std::ofstream(path, std::ios::trunc) << R"({"id": "a", "orders": [{"order": [0, 1], "human": 0, "per_layer_logits": [[1, 2]]}]})" "\n"
                                          R"({"id": "b", "per_layer_logits": [[0, 1]], "score_values": [1, 2], "human": 2})" "\n";
  rows = read_layer_rows(path, "human");
  ASSERT_FALSE(rows);
  EXPECT_NE(rows.message().find("mixes 1 listwise reads with 1 rated or pairwise items"), std::string::npos) << rows.message();
}

TEST(Layers, ShapeMismatchNamesTheRow) {
  std::vector<LayerRow> rows = {{{{0, 1}}, {1, 2}, 1}, {{{0, 1}, {1, 0}}, {1, 2}, 2}};
  auto result = layer_spearman(rows);
  ASSERT_FALSE(result);
  EXPECT_NE(result.message().find("row 1"), std::string::npos) << result.message();
}

}  // namespace
}  // namespace arbiter::eval

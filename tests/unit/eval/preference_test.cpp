// Pairwise accuracy against graded preferences, by hand on small cases, and the reader of scored pairs.
#include "eval/preference.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "eval/score_files.h"
#include "../../support/scratch_root.h"

namespace arbiter::eval {
namespace {

TEST(Preference, SignOfTheStrengthPicksTheBetterResponse) {
  const std::vector<PreferencePair> pairs = {
      {2.0, 1.0, -3},  // response 1 preferred and higher: right
      {2.0, 1.0, 1},   // response 2 preferred but lower: wrong
      {0.5, 0.7, 2},   // right
      {1.0, 1.0, -1},  // equal scores: wrong
      {3.0, 0.0, 0},   // a tie: left out
  };
  const PreferenceReport r = score_preferences(pairs);
  EXPECT_EQ(r.pairs, 4u);
  EXPECT_EQ(r.correct, 2u);
  EXPECT_EQ(r.ties, 1u);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5);
  ASSERT_EQ(r.by_strength.size(), 3u);
  EXPECT_EQ(r.by_strength[0].strength, 1);
  EXPECT_EQ(r.by_strength[0].n, 2u);
  EXPECT_EQ(r.by_strength[0].correct, 0u);
  EXPECT_EQ(r.by_strength[2].strength, 3);
  EXPECT_DOUBLE_EQ(r.by_strength[2].accuracy, 1.0);
  EXPECT_TRUE(std::isnan(score_preferences({{1, 2, 0}}).accuracy));
}

TEST(Preference, ReaderTakesScoredPairsAndCountsErrorLines) {
  const auto path = arbiter::test::scratch_root() / ("pref-" + std::to_string(::getpid()) + ".jsonl");
  std::ofstream(path) << R"({"id": "a", "responses": [{"lager": 3.5}, {"lager": 2}], "human_preference_strength": -1})"
                         "\n"
                      << R"({"id": "b", "error": "too long"})" "\n";
  size_t error_rows = 0;
  auto pairs = read_preference_pairs(path.string(), "lager", "human_preference_strength", &error_rows);
  ASSERT_TRUE(pairs) << pairs.message();
  ASSERT_EQ(pairs->size(), 1u);
  EXPECT_EQ((*pairs)[0].score_1, 3.5);
  EXPECT_EQ((*pairs)[0].strength, -1);
  EXPECT_EQ(error_rows, 1u);
  auto missing = read_preference_pairs(path.string(), "score", "human_preference_strength");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find(":1"), std::string::npos) << missing.message();
  EXPECT_NE(missing.message().find("'score'"), std::string::npos) << missing.message();

  // A strength off the -3..3 scale would be counted in a bucket of its own, or rounded into another's.
  for (const char* strength : {"7", "1.5", "-4"}) {
    std::ofstream(path) << R"({"id": "a", "responses": [{"lager": 3.5}, {"lager": 2}], "human_preference_strength": )"
                        << strength << "}\n";
    auto off_scale = read_preference_pairs(path.string(), "lager", "human_preference_strength");
    ASSERT_FALSE(off_scale) << strength;
    EXPECT_NE(off_scale.message().find(":1: field 'human_preference_strength' is " + std::string(strength) +
                                       ": a preference strength is a whole number from -3 to 3"),
              std::string::npos)
        << off_scale.message();
  }

  // Held-out chosen / rejected pairs (their lines carry score_chosen, no strength) prefer the chosen one.
  std::ofstream(path) << R"({"id": "c", "responses": [{"score": 0.2}, {"score": 0.9}], "score_chosen": 0.2, "score_rejected": 0.9})"
                      << "\n"
                      << R"({"id": "d", "responses": [{"score": 1.5}, {"score": 0.1}], "score_chosen": 1.5, "score_rejected": 0.1})"
                      << "\n";
  auto chosen_rejected = read_preference_pairs(path.string(), "score", "human_preference_strength");
  ASSERT_TRUE(chosen_rejected) << chosen_rejected.message();
  ASSERT_EQ(chosen_rejected->size(), 2u);
  EXPECT_EQ((*chosen_rejected)[0].strength, -1);
  EXPECT_DOUBLE_EQ(score_preferences(*chosen_rejected).accuracy, 0.5);  // c's rejected scored higher
}

}  // namespace
}  // namespace arbiter::eval

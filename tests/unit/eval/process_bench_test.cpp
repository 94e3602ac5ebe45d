// ProcessBench's measure, on rows whose outcome is worked out by hand from its definition.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/process_bench.h"

namespace arbiter::eval {
namespace {

// At threshold 0.5: row 0 finds its wrong step 1; row 1 misses step 0; row 2 flags step 0 instead of 1;
// row 3 (all right) flags nothing; row 4 (all right) flags step 1.
const std::vector<StepRewardRow> kRows = {
    {{0.9, 0.3, 0.8}, 1, "gsm8k"}, {{0.9, 0.8}, 0, "gsm8k"}, {{0.2, 0.9}, 1, "math"},
    {{0.7, 0.6}, -1, "math"},      {{0.7, 0.4}, -1, "math"},
};

TEST(ProcessBench, AccuraciesOnBothGroupsAndTheirHarmonicMean) {
  const ProcessBenchScore s = score_process_bench(kRows, 0.5);
  EXPECT_EQ(s.erroneous, 3u);
  EXPECT_EQ(s.erroneous_correct, 1u);
  EXPECT_EQ(s.correct, 2u);
  EXPECT_EQ(s.correct_correct, 1u);
  EXPECT_DOUBLE_EQ(s.erroneous_accuracy, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.correct_accuracy, 0.5);
  EXPECT_NEAR(s.f1, 0.4, 1e-12);  // 2 (1/3)(1/2) / (1/3 + 1/2)
}

TEST(ProcessBench, ReportSplitsSubsetsAndFindsTheBestThreshold) {
  const ProcessBenchReport r = process_bench_report(kRows, 0.5);
  ASSERT_EQ(r.by_subset.size(), 2u);
  EXPECT_EQ(r.by_subset[0].first, "gsm8k");
  EXPECT_TRUE(std::isnan(r.by_subset[0].second.f1));  // no all-right solution in gsm8k
  EXPECT_EQ(r.by_subset[1].first, "math");
  EXPECT_DOUBLE_EQ(r.by_subset[1].second.erroneous_accuracy, 0.0);
  // Just above 0.3 row 0 still finds step 1 and row 4 is no longer flagged: 1/3 and 1, F1 0.5, the best.
  EXPECT_DOUBLE_EQ(r.best_threshold, 0.31);
  EXPECT_NEAR(r.best_f1, 0.5, 1e-12);
}

TEST(ProcessBench, OneGroupAloneHasNoF1) {
  const ProcessBenchScore s = score_process_bench({{{0.9}, -1, ""}}, 0.5);
  EXPECT_DOUBLE_EQ(s.correct_accuracy, 1.0);
  EXPECT_TRUE(std::isnan(s.erroneous_accuracy));
  EXPECT_TRUE(std::isnan(s.f1));
}

}  // namespace
}  // namespace arbiter::eval

// ProcessBench's measure, on rows whose outcome is worked out by hand from its definition.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/process_bench.h"

namespace arbiter::eval {
namespace {

// At threshold 0.5: row 0 finds its wrong step 1; row 1 misses step 0; row 2 flags step 0 instead of 1;
// row 3 (all right) flags nothing; row 4 (all right) flags step 1.
const std::vector<StepRewardRow> kRows = {
    {{0.9, 0.3, 0.8}, 1, "gsm8k", {}}, {{0.9, 0.8}, 0, "gsm8k", {}}, {{0.2, 0.9}, 1, "math", {}},
    {{0.7, 0.6}, -1, "math", {}},      {{0.7, 0.4}, -1, "math", {}},
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
  // At 0.3 (a reward at the threshold is wrong) row 0 still finds step 1 and row 4 is no longer flagged:
  // 1/3 and 1, F1 0.5, the best.
  EXPECT_DOUBLE_EQ(r.best_threshold, 0.3);
  EXPECT_NEAR(r.best_f1, 0.5, 1e-12);
}

// A reward exactly at the threshold is a wrong step: ProcessBench's scripts take the argmax of the [wrong,
// right] logits, and a tie (0.5) goes to the first, wrong.
TEST(ProcessBench, ARewardAtTheThresholdIsAWrongStep) {
  EXPECT_EQ(predicted_first_error({0.9, 0.5, 0.2}, 0.5), 1);
  EXPECT_EQ(predicted_first_error({0.9, 0.5000001}, 0.5), -1);
}

TEST(ProcessBench, OneGroupAloneHasNoF1) {
  const ProcessBenchScore s = score_process_bench({{{0.9}, -1, "", {}}}, 0.5);
  EXPECT_DOUBLE_EQ(s.correct_accuracy, 1.0);
  EXPECT_TRUE(std::isnan(s.erroneous_accuracy));
  EXPECT_TRUE(std::isnan(s.f1));
}

// Steps judged one by one. Labelled steps (reward, label): (0.9, 1) (0.3, 0) (0.8, NaN: left out) from
// row 0; (0.9, 1) (0.8, 0) from row 1; (0.6, 1) (0.6, 0) from row 2; row 3 carries no step labels.
// Right steps' rewards 0.9, 0.9, 0.6; wrong steps' 0.3, 0.8, 0.6.
TEST(ProcessBench, StepsLabelledOneByOne) {
  const std::vector<StepRewardRow> rows = {
      {{0.9, 0.3, 0.8}, 1, "", {1, 0, NAN}},
      {{0.9, 0.8}, 1, "", {1, 0}},
      {{0.6, 0.6}, 1, "", {1, 0}},
      {{0.2}, -1, "", {}},
  };
  const StepLevelScore s = score_steps(rows, 0.5);
  EXPECT_EQ(s.steps, 6u);
  EXPECT_EQ(s.right, 3u);
  EXPECT_EQ(s.wrong, 3u);
  // At 0.5 every right step is above; of the wrong ones only 0.3 is below.
  EXPECT_DOUBLE_EQ(s.right_accuracy, 1.0);
  EXPECT_DOUBLE_EQ(s.wrong_accuracy, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.accuracy, 4.0 / 6.0);
  // Pairs (right, wrong): 0.9 beats all three twice (6), 0.6 beats 0.3 and ties 0.6 (1.5): 7.5 / 9.
  EXPECT_DOUBLE_EQ(s.auroc, 7.5 / 9.0);
  const ProcessBenchReport r = process_bench_report(rows, 0.5);
  EXPECT_TRUE(r.has_step_labels);
  EXPECT_EQ(r.steps.steps, 6u);
  EXPECT_FALSE(process_bench_report(kRows, 0.5).has_step_labels);
  // One kind of step only: no AUROC.
  EXPECT_TRUE(std::isnan(score_steps({{{0.9}, -1, "", {1}}}, 0.5).auroc));
}

}  // namespace
}  // namespace arbiter::eval

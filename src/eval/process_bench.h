// ProcessBench (Zheng et al., 2024): can a process reward model find the first wrong step of a solution?
// A solution's predicted first error is its first step rewarded below a threshold (-1: none). Accuracy is
// measured apart on the solutions with a wrong step (the prediction must name that step) and on the
// correct ones (it must name none); the benchmark's score is their harmonic mean (F1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace arbiter::eval {

struct StepRewardRow {
  std::vector<double> rewards;  // one per step
  int64_t first_error = -1;     // the human label: index of the earliest wrong step, -1 when all are right
  std::string subset;           // may be empty
  // Per-step human labels where the row has them (Math-Shepherd's verdicts, a step_labels list): one per
  // step, >= 0.5 right, NaN unknown; empty otherwise.
  std::vector<double> step_labels;
};

// Each labelled step judged alone (as step-level PRM evaluations do): is its reward on the right side of
// the threshold, and how well do rewards rank right steps above wrong ones (AUROC, ties counted half).
struct StepLevelScore {
  size_t steps = 0, right = 0, wrong = 0;       // labelled steps; of them right (label >= 0.5) and wrong
  double accuracy = 0.0;                        // reward >= threshold exactly when the step is right
  double right_accuracy = 0.0, wrong_accuracy = 0.0;  // NaN when the group is empty
  double auroc = 0.0;                           // NaN without both kinds of step
};

StepLevelScore score_steps(const std::vector<StepRewardRow>& rows, double threshold);

// The predicted first error: the first step rewarded below `threshold`, -1 when none is.
int64_t predicted_first_error(const std::vector<double>& rewards, double threshold);

// The harmonic mean of the two accuracies (0 when both are 0); NaN when either is.
double process_bench_f1(double erroneous_accuracy, double correct_accuracy);

struct ProcessBenchScore {
  size_t erroneous = 0, erroneous_correct = 0;  // solutions with a wrong step; their first one found
  size_t correct = 0, correct_correct = 0;      // solutions without; none flagged
  double erroneous_accuracy = 0.0, correct_accuracy = 0.0;  // NaN when the group is empty
  double f1 = 0.0;                                          // harmonic mean; NaN when a group is empty
};

ProcessBenchScore score_process_bench(const std::vector<StepRewardRow>& rows, double threshold);

struct ProcessBenchReport {
  double threshold = 0.5;
  ProcessBenchScore overall;
  std::vector<std::pair<std::string, ProcessBenchScore>> by_subset;  // sorted by name; empty without subsets
  // The mean of the subsets' F1, ProcessBench's headline "average F1" over its four subsets (which `overall`,
  // pooling every row, is not); NaN without subsets or where a subset's F1 is.
  double mean_subset_f1 = 0.0;
  // Every threshold of the grid 0.01 .. 0.99, and the one with the best overall F1 (on a tie the chosen
  // threshold, then the lowest of the grid): tuned on the rows themselves, so an upper bound for this
  // set, not a held-out result.
  std::vector<std::pair<double, ProcessBenchScore>> sweep;
  double best_threshold = 0.5;
  double best_f1 = 0.0;
  bool has_step_labels = false;  // some row carries per-step labels: `steps` is measured
  StepLevelScore steps;
};

ProcessBenchReport process_bench_report(const std::vector<StepRewardRow>& rows, double threshold);

}  // namespace arbiter::eval

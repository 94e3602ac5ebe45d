#include "eval/process_bench.h"

#include <cmath>
#include <map>

#include "eval/metrics.h"

namespace arbiter::eval {

namespace {

double ratio(size_t a, size_t b) { return b == 0 ? std::nan("") : double(a) / double(b); }

}  // namespace

int64_t predicted_first_error(const std::vector<double>& rewards, double threshold) {
  // At the threshold is wrong, as in score's first_error_step and ProcessBench's argmax (a tie is "wrong").
  for (size_t i = 0; i < rewards.size(); ++i)
    if (rewards[i] <= threshold) return int64_t(i);
  return -1;
}

double process_bench_f1(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? std::nan("") : (a + b > 0 ? 2.0 * a * b / (a + b) : 0.0);
}

ProcessBenchScore score_process_bench(const std::vector<StepRewardRow>& rows, double threshold) {
  ProcessBenchScore s;
  for (const StepRewardRow& row : rows) {
    const int64_t predicted = predicted_first_error(row.rewards, threshold);
    if (row.first_error >= 0) {
      ++s.erroneous;
      s.erroneous_correct += predicted == row.first_error;
    } else {
      ++s.correct;
      s.correct_correct += predicted == -1;
    }
  }
  s.erroneous_accuracy = ratio(s.erroneous_correct, s.erroneous);
  s.correct_accuracy = ratio(s.correct_correct, s.correct);
  s.f1 = process_bench_f1(s.erroneous_accuracy, s.correct_accuracy);
  return s;
}

StepLevelScore score_steps(const std::vector<StepRewardRow>& rows, double threshold) {
  StepLevelScore s;
  std::vector<double> right_rewards, wrong_rewards;
  size_t right_hits = 0, wrong_hits = 0;
  for (const StepRewardRow& row : rows) {
    for (size_t k = 0; k < row.step_labels.size() && k < row.rewards.size(); ++k) {
      if (std::isnan(row.step_labels[k])) continue;
      if (row.step_labels[k] >= 0.5) {
        right_rewards.push_back(row.rewards[k]);
        right_hits += row.rewards[k] >= threshold;
      } else {
        wrong_rewards.push_back(row.rewards[k]);
        wrong_hits += row.rewards[k] < threshold;
      }
    }
  }
  s.right = right_rewards.size();
  s.wrong = wrong_rewards.size();
  s.steps = s.right + s.wrong;
  s.accuracy = ratio(right_hits + wrong_hits, s.steps);
  s.right_accuracy = ratio(right_hits, s.right);
  s.wrong_accuracy = ratio(wrong_hits, s.wrong);
  s.auroc = auroc(right_rewards, wrong_rewards);
  return s;
}

ProcessBenchReport process_bench_report(const std::vector<StepRewardRow>& rows, double threshold) {
  ProcessBenchReport r;
  for (const StepRewardRow& row : rows) r.has_step_labels = r.has_step_labels || !row.step_labels.empty();
  if (r.has_step_labels) r.steps = score_steps(rows, threshold);
  r.threshold = threshold;
  r.overall = score_process_bench(rows, threshold);
  std::map<std::string, std::vector<StepRewardRow>> subsets;
  for (const StepRewardRow& row : rows)
    if (!row.subset.empty()) subsets[row.subset].push_back(row);
  for (const auto& [name, part] : subsets) r.by_subset.emplace_back(name, score_process_bench(part, threshold));
  r.mean_subset_f1 = std::nan("");
  if (!r.by_subset.empty()) {
    double sum = 0.0;
    for (const auto& subset : r.by_subset) sum += subset.second.f1;  // NaN in, NaN out
    r.mean_subset_f1 = sum / double(r.by_subset.size());
  }
  r.best_threshold = threshold;
  r.best_f1 = r.overall.f1;
  for (int t = 1; t < 100; ++t) {
    r.sweep.emplace_back(t / 100.0, score_process_bench(rows, t / 100.0));
    const double f1 = r.sweep.back().second.f1;
    if (!std::isnan(f1) && (std::isnan(r.best_f1) || f1 > r.best_f1)) {
      r.best_f1 = f1;
      r.best_threshold = t / 100.0;
    }
  }
  return r;
}

}  // namespace arbiter::eval

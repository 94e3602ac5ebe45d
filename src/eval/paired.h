// Paired comparison of systems scored on the same rows (two reward models, or a judge's vanilla, expected
// and LAGER scores): each system's statistic with a bootstrap interval, and each system's difference from
// the first (the baseline) with a paired bootstrap interval and p-value. Paired: every resample draws the
// same rows for all systems, so the difference's spread is that of the rows the systems disagree on, not
// the sum of two independent spreads (Koehn 2004's paired bootstrap resampling). Accuracy differences get
// McNemar's exact test besides.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/metrics.h"

namespace arbiter::eval {

struct SystemResult {
  std::string name;
  double value = 0.0;  // the statistic on all rows
  Interval ci;         // bootstrap percentile interval
};

struct DifferenceResult {
  std::string system, baseline;
  double difference = 0.0;  // system - baseline on all rows
  Interval ci;              // paired bootstrap percentile interval of the difference
  // Two-sided paired bootstrap p-value: twice the smaller share of resampled differences at or below zero and
  // at or above zero (at most 1; at least 1 / (resamples used + 1), what the resamples can tell). 1 for
  // systems that agree on every row.
  double p_value = 1.0;
};

struct PairedComparison {
  size_t rows = 0;
  int resamples = 0;
  std::vector<SystemResult> systems;          // in the order given
  std::vector<DifferenceResult> differences;  // systems 1.. against system 0
};

// statistic(s, rows): system s's statistic over the rows listed (indices into 0..n-1, with repeats in a
// resample); NaN where it is undefined (a constant resample), which leaves that resample out of the system's
// interval and of the differences it is in.
using SystemStatistic = std::function<double(size_t system, std::span<const size_t> rows)>;

Result<PairedComparison> compare_paired(const std::vector<std::string>& names, size_t rows,
                                        const SystemStatistic& statistic, const BootstrapOptions& options);

// McNemar's exact test of two systems' right / wrong verdicts on the same rows: of the rows where exactly one
// is right, is the split further from even than chance (a fair coin) would make it? Two-sided binomial p.
struct McNemarResult {
  size_t only_baseline = 0;  // the baseline right, the system wrong
  size_t only_system = 0;    // the system right, the baseline wrong
  double p_value = 1.0;
};
Result<McNemarResult> mcnemar_exact(std::span<const char> baseline_right, std::span<const char> system_right);

}  // namespace arbiter::eval

// Agreement between predicted scores and human labels: ranks with ties, Spearman, Kendall tau-b,
// Pearson, pairwise accuracy, and bootstrap percentile intervals.
//
// Errors (length mismatch, fewer than 2 points, a NaN or infinite value) are Status values. A constant
// input is not an error: the correlation is undefined and comes back as NaN; is_constant() lets the caller
// say why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter::eval {

// 1-based ranks; equal values share the mean of the ranks they span (scipy's rankdata "average").
std::vector<double> average_ranks(std::span<const double> values);

bool is_constant(std::span<const double> values);

// Each returns NaN when either input is constant.
Result<double> pearson(std::span<const double> x, std::span<const double> y);
Result<double> spearman(std::span<const double> x, std::span<const double> y);
Result<double> kendall_tau_b(std::span<const double> x, std::span<const double> y);

// Pair counts over all n(n-1)/2 pairs, from one O(n log n) pass (Knight 1966).
struct PairCounts {
  uint64_t pairs = 0;        // n(n-1)/2
  uint64_t concordant = 0;   // x and y strictly ordered the same way
  uint64_t discordant = 0;   // strictly ordered opposite ways
  uint64_t tied_x = 0;       // x equal (y anything)
  uint64_t tied_y = 0;       // y equal (x anything)
  uint64_t tied_both = 0;    // x equal and y equal
};
Result<PairCounts> count_pairs(std::span<const double> x, std::span<const double> y);

// Of the pairs whose human labels differ, the fraction that `pred` orders the same way, a tie in pred
// counting half (Harrell's concordance index; an AUROC for a binary human label). Counting such ties as
// wrong would put a judge that scores on a few discrete labels below chance while it ranks well: a 1-5
// argmax ties on most pairs. NaN when every human label is equal.
Result<double> pairwise_accuracy(std::span<const double> pred, std::span<const double> human);

// Area under the ROC curve: the probability that a positive's score exceeds a negative's, ties counted
// half (the Mann-Whitney statistic). NaN without both positives and negatives. O((P + N) log N).
double auroc(std::span<const double> positive_scores, std::span<const double> negative_scores);

using CorrelationFn = std::function<Result<double>(std::span<const double>, std::span<const double>)>;

struct Interval {
  double lo = 0.0;
  double hi = 0.0;
  int resamples_used = 0;  // resamples whose statistic was defined (a constant resample gives NaN)
};

struct BootstrapOptions {
  int resamples = 1000;
  uint64_t seed = 0;
  double level = 0.95;  // central interval: percentiles (1-level)/2 and (1+level)/2
};

// A warning when the resamples are too few for the interval's tails: each tail is read off fewer than 5
// resamples (at 95%, fewer than 200 in all), so the interval is mostly chance; empty otherwise.
std::string few_resamples_warning(const BootstrapOptions& options);

// The level as a percentage for a label: "95", "99.9".
std::string level_percent(double level);

// The rows of successive bootstrap resamples of n rows: n indices drawn with replacement, each. Deterministic
// for a seed on every standard library (std::mt19937_64, indices by rejection on its raw output).
class BootstrapIndices {
 public:
  BootstrapIndices(size_t n, uint64_t seed);
  void next(std::vector<size_t>& rows);  // rows [n]

 private:
  size_t n_;
  uint64_t limit_;
  std::mt19937_64 rng_;
};

// numpy's default percentile (linear between order statistics) of ascending values; NaN when empty.
double sorted_percentile(const std::vector<double>& sorted, double q);

// The central `level` interval of the defined (non-NaN) values, and how many there were.
Interval percentile_interval(std::vector<double> values, double level);

// Percentile bootstrap: resample the n (x, y) pairs with replacement, recompute `stat`, take the
// percentiles of the defined values (linear interpolation between order statistics).
// Deterministic for a given seed: std::mt19937_64 with explicit index drawing.
Result<Interval> bootstrap_interval(std::span<const double> x, std::span<const double> y,
                                    const CorrelationFn& stat, const BootstrapOptions& options);

struct CorrelationReport {
  size_t n = 0;
  double spearman = 0.0, kendall_tau_b = 0.0, pearson = 0.0, pairwise_accuracy = 0.0;
  bool pred_constant = false, human_constant = false;
  bool has_intervals = false;
  Interval spearman_ci, kendall_ci, pearson_ci;
};

// All metrics at once; intervals when options.resamples > 0.
Result<CorrelationReport> correlate(std::span<const double> pred, std::span<const double> human,
                                    const BootstrapOptions& options);

}  // namespace arbiter::eval

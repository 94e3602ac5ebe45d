#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>
#include <cstdio>
#include <string>

#include "core/progress.h"
#include "core/thread_pool.h"

namespace arbiter::eval {
namespace {

Status check_inputs(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size())
    return error("length mismatch: " + std::to_string(x.size()) + " predictions vs " +
                 std::to_string(y.size()) + " labels");
  if (x.size() < 2) return error("need at least 2 points, got " + std::to_string(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) return error("prediction " + std::to_string(i) + " is not a finite number");
    if (!std::isfinite(y[i])) return error("label " + std::to_string(i) + " is not a finite number");
  }
  return Status::ok();
}

// What to divide `values` by: Pearson's r does not change with the scale, and sums of squares of values
// near 1 neither overflow (scores of 1e160) nor underflow (1e-170). Values of ordinary size are left as
// they are, so that their r is not rounded once more (a perfect correlation stays exactly 1).
double magnitude(std::span<const double> values) {
  double largest = 0.0;
  for (double v : values) largest = std::max(largest, std::fabs(v));
  return largest > 1e100 || (largest > 0.0 && largest < 1e-100) ? largest : 1.0;
}

double pearson_unchecked(std::span<const double> x, std::span<const double> y) {
  const size_t n = x.size();
  const double scale_x = magnitude(x), scale_y = magnitude(y);
  double mean_x = 0.0, mean_y = 0.0;
  for (size_t i = 0; i < n; ++i) {
    mean_x += x[i] / scale_x;
    mean_y += y[i] / scale_y;
  }
  mean_x /= double(n);
  mean_y /= double(n);
  // Centred two-pass sums: the one-pass formula loses digits when the mean is large next to the spread.
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double dx = x[i] / scale_x - mean_x, dy = y[i] / scale_y - mean_y;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0.0 || syy == 0.0) return std::nan("");
  const double r = sxy / (std::sqrt(sxx) * std::sqrt(syy));
  return std::clamp(r, -1.0, 1.0);
}

// Sum over runs of equal adjacent values of t(t-1)/2; `same(i, j)` says whether positions i, j tie.
template <typename Same>
uint64_t tied_pairs_in_sorted(size_t n, Same same) {
  uint64_t total = 0;
  size_t run = 1;
  for (size_t i = 1; i <= n; ++i) {
    if (i < n && same(i - 1, i)) {
      ++run;
    } else {
      total += uint64_t(run) * (run - 1) / 2;
      run = 1;
    }
  }
  return total;
}

// Sorts `values` ascending by merge sort and returns the number of pairs i < j with values[i] > values[j]
// (strictly: equal values are not inversions).
uint64_t sort_counting_inversions(std::vector<double>& values) {
  const size_t n = values.size();
  std::vector<double> buffer(n);
  uint64_t inversions = 0;
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      const size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      size_t a = lo, b = mid, out = lo;
      while (a < mid && b < hi) {
        if (values[b] < values[a]) {
          inversions += mid - a;  // values[b] is below every remaining element of the left run
          buffer[out++] = values[b++];
        } else {
          buffer[out++] = values[a++];
        }
      }
      while (a < mid) buffer[out++] = values[a++];
      while (b < hi) buffer[out++] = values[b++];
    }
    std::swap(values, buffer);
  }
  return inversions;
}

}  // namespace

std::vector<double> average_ranks(std::span<const double> values) {
  const size_t n = values.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n);
  size_t start = 0;
  while (start < n) {
    size_t end = start + 1;
    while (end < n && values[order[end]] == values[order[start]]) ++end;
    // Positions start..end-1 (0-based) hold rank start+1..end; their mean is (start + 1 + end) / 2.
    const double rank = 0.5 * double(start + 1 + end);
    for (size_t k = start; k < end; ++k) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

bool is_constant(std::span<const double> values) {
  return std::all_of(values.begin(), values.end(), [&](double v) { return v == values.front(); });
}

Result<double> pearson(std::span<const double> x, std::span<const double> y) {
  ARB_TRY(check_inputs(x, y));
  return pearson_unchecked(x, y);
}

Result<double> spearman(std::span<const double> x, std::span<const double> y) {
  ARB_TRY(check_inputs(x, y));
  const std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
  return pearson_unchecked(rx, ry);
}

Result<PairCounts> count_pairs(std::span<const double> x, std::span<const double> y) {
  ARB_TRY(check_inputs(x, y));
  const size_t n = x.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return x[a] < x[b] || (x[a] == x[b] && y[a] < y[b]);
  });
  PairCounts counts;
  counts.pairs = uint64_t(n) * (n - 1) / 2;
  counts.tied_x = tied_pairs_in_sorted(n, [&](size_t i, size_t j) { return x[order[i]] == x[order[j]]; });
  counts.tied_both = tied_pairs_in_sorted(
      n, [&](size_t i, size_t j) { return x[order[i]] == x[order[j]] && y[order[i]] == y[order[j]]; });
  // Within a run of equal x the y values are ascending, so every strict inversion of y in this order
  // is a pair with x strictly increasing and y strictly decreasing: a discordant pair.
  std::vector<double> y_in_x_order(n);
  for (size_t i = 0; i < n; ++i) y_in_x_order[i] = y[order[i]];
  counts.discordant = sort_counting_inversions(y_in_x_order);
  counts.tied_y = tied_pairs_in_sorted(n, [&](size_t i, size_t j) { return y_in_x_order[i] == y_in_x_order[j]; });
  counts.concordant = counts.pairs - counts.tied_x - counts.tied_y + counts.tied_both - counts.discordant;
  return counts;
}

Result<double> kendall_tau_b(std::span<const double> x, std::span<const double> y) {
  ARB_ASSIGN(const PairCounts c, count_pairs(x, y));
  const double untied_x = double(c.pairs - c.tied_x), untied_y = double(c.pairs - c.tied_y);
  if (untied_x == 0.0 || untied_y == 0.0) return std::nan("");
  const double tau = (double(c.concordant) - double(c.discordant)) / std::sqrt(untied_x * untied_y);
  return std::clamp(tau, -1.0, 1.0);
}

Result<double> pairwise_accuracy(std::span<const double> pred, std::span<const double> human) {
  ARB_ASSIGN(const PairCounts c, count_pairs(pred, human));
  const uint64_t decidable = c.pairs - c.tied_y;
  if (decidable == 0) return std::nan("");
  const uint64_t tied_pred_only = c.tied_x - c.tied_both;
  return (double(c.concordant) + 0.5 * double(tied_pred_only)) / double(decidable);
}

double auroc(std::span<const double> positive_scores, std::span<const double> negative_scores) {
  if (positive_scores.empty() || negative_scores.empty()) return std::nan("");
  std::vector<double> negatives(negative_scores.begin(), negative_scores.end());
  std::sort(negatives.begin(), negatives.end());
  double wins = 0.0;
  for (double p : positive_scores) {
    const auto below = std::lower_bound(negatives.begin(), negatives.end(), p);
    const auto not_above = std::upper_bound(negatives.begin(), negatives.end(), p);
    wins += double(below - negatives.begin()) + 0.5 * double(not_above - below);
  }
  return wins / (double(positive_scores.size()) * double(negatives.size()));
}

BootstrapIndices::BootstrapIndices(size_t n, uint64_t seed)
    : n_(n), limit_(UINT64_MAX - UINT64_MAX % n), rng_(seed) {}

void BootstrapIndices::next(std::vector<size_t>& rows) {
  rows.resize(n_);
  // Index drawing by rejection on the raw 64-bit output: std::uniform_int_distribution differs between
  // standard libraries, and the same seed must give the same interval everywhere.
  for (size_t i = 0; i < n_; ++i) {
    uint64_t r;
    do r = rng_(); while (r >= limit_);
    rows[i] = size_t(r % n_);
  }
}

double sorted_percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::nan("");
  // numpy's default percentile: position q * (m - 1), linear between neighbours.
  const double pos = q * double(sorted.size() - 1);
  const size_t below = size_t(std::floor(pos));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double frac = pos - double(below);
  return sorted[below] + frac * (sorted[above] - sorted[below]);
}

Interval percentile_interval(std::vector<double> values, double level) {
  Interval interval;
  std::erase_if(values, [](double v) { return std::isnan(v); });
  interval.resamples_used = int(values.size());
  std::sort(values.begin(), values.end());
  interval.lo = sorted_percentile(values, (1.0 - level) / 2.0);
  interval.hi = sorted_percentile(values, (1.0 + level) / 2.0);
  return interval;
}

Result<Interval> bootstrap_interval(std::span<const double> x, std::span<const double> y,
                                    const CorrelationFn& stat, const BootstrapOptions& options) {
  ARB_TRY(check_inputs(x, y));
  if (options.resamples < 1) return error("bootstrap needs at least 1 resample");
  if (!(options.level > 0.0 && options.level < 1.0)) return error("bootstrap level must lie in (0, 1)");
  const size_t n = x.size();
  // The resamples are drawn in order from one generator (so the interval is the same on any number of
  // threads), a batch of one per thread at a time, and their statistics computed side by side: at a
  // million rows a resample takes most of a second.
  ThreadPool& pool = global_thread_pool();
  const size_t threads = size_t(std::max(1, pool.size()));
  BootstrapIndices indices(n, options.seed);
  std::vector<std::vector<size_t>> rows(threads);
  std::vector<std::vector<double>> xs(threads, std::vector<double>(n)), ys(threads, std::vector<double>(n));
  std::vector<double> values(threads);
  std::vector<Status> failures(threads, Status::ok());
  std::vector<double> stats;
  stats.reserve(size_t(options.resamples));
  // Long work shows progress: a million rows' thousand resamples take minutes.
  std::unique_ptr<Progress> progress;
  if (double(n) * options.resamples >= 2e7) progress = std::make_unique<Progress>("bootstrap", options.resamples, "resamples");
  for (size_t b = 0; b < size_t(options.resamples); b += threads) {
    const size_t batch = std::min(threads, size_t(options.resamples) - b);
    for (size_t j = 0; j < batch; ++j) indices.next(rows[j]);
    pool.run_on_all([&](int t) {
      const size_t j = size_t(t);
      if (j >= batch) return;
      for (size_t i = 0; i < n; ++i) {
        xs[j][i] = x[rows[j][i]];
        ys[j][i] = y[rows[j][i]];
      }
      auto value = stat(xs[j], ys[j]);
      if (value) values[j] = *value;
      else failures[j] = value.status();
    });
    for (size_t j = 0; j < batch; ++j) {
      ARB_TRY(failures[j]);
      stats.push_back(values[j]);
    }
    if (progress) progress->advance(int64_t(batch));
  }
  if (progress) progress->finish();
  return percentile_interval(std::move(stats), options.level);
}

Result<CorrelationReport> correlate(std::span<const double> pred, std::span<const double> human,
                                    const BootstrapOptions& options) {
  CorrelationReport report;
  report.n = pred.size();
  ARB_ASSIGN(report.spearman, spearman(pred, human));
  ARB_ASSIGN(report.kendall_tau_b, kendall_tau_b(pred, human));
  ARB_ASSIGN(report.pearson, pearson(pred, human));
  ARB_ASSIGN(report.pairwise_accuracy, pairwise_accuracy(pred, human));
  report.pred_constant = is_constant(pred);
  report.human_constant = is_constant(human);
  if (options.resamples > 0 && !report.pred_constant && !report.human_constant) {
    report.has_intervals = true;
    // Each statistic gets the same resamples (same seed), so the three intervals describe one bootstrap.
    ARB_ASSIGN(report.spearman_ci, bootstrap_interval(pred, human, spearman, options));
    ARB_ASSIGN(report.kendall_ci, bootstrap_interval(pred, human, kendall_tau_b, options));
    ARB_ASSIGN(report.pearson_ci, bootstrap_interval(pred, human, pearson, options));
  }
  return report;
}

std::string level_percent(double level) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", 100.0 * level);
  return text;
}

std::string few_resamples_warning(const BootstrapOptions& options) {
  const double per_tail = double(options.resamples) * (1.0 - options.level) / 2.0;
  if (options.resamples <= 0 || per_tail >= 5.0) return "";
  return std::to_string(options.resamples) + " bootstrap resamples leave " +
         (per_tail < 1.0 ? std::string("less than one resample") : "fewer than 5 resamples") + " in each tail of a " +
         level_percent(options.level) + "% interval, so its ends are mostly chance: use --bootstrap " +
         std::to_string(int(std::ceil(10.0 / (1.0 - options.level)))) + " or more";
}

}  // namespace arbiter::eval

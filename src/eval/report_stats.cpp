#include "eval/report_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace arbiter::eval {
namespace {

std::vector<double> sorted_finite(std::span<const double> values) {
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values)
    if (std::isfinite(v)) out.push_back(v);
  std::sort(out.begin(), out.end());
  return out;
}

// Linear-interpolated quantile of sorted values.
double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * double(sorted.size() - 1);
  const size_t below = size_t(std::floor(pos));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (pos - double(below)) * (sorted[above] - sorted[below]);
}

CalibrationBin summarize(std::span<const size_t> order, std::span<const double> pred, std::span<const double> human) {
  CalibrationBin bin;
  bin.n = order.size();
  bin.pred_lo = pred[order.front()];
  bin.pred_hi = pred[order.back()];
  for (size_t i : order) bin.mean_pred += pred[i], bin.mean_human += human[i];
  bin.mean_pred /= double(bin.n);
  bin.mean_human /= double(bin.n);
  // One observation has no spread to estimate: its standard error is unknown, not 0 (a bar of no width).
  bin.se_human = std::nan("");
  if (bin.n >= 2) {
    double ss = 0.0;
    for (size_t i : order) ss += (human[i] - bin.mean_human) * (human[i] - bin.mean_human);
    bin.se_human = std::sqrt(ss / double(bin.n - 1)) / std::sqrt(double(bin.n));
  }
  return bin;
}

}  // namespace

double discrete_step(std::span<const double> values, size_t max_levels) {
  const std::vector<double> sorted = sorted_finite(values);
  std::vector<double> levels;
  for (double v : sorted) {
    // Means of raters (1/3 steps) come from floating division; treat values within 1e-9 as one level.
    if (levels.empty() || v - levels.back() > 1e-9 * std::max(1.0, std::fabs(v))) levels.push_back(v);
    if (levels.size() > max_levels) return 0.0;
  }
  if (levels.size() < 2) return 0.0;
  double step = levels[1] - levels[0];
  for (size_t i = 2; i < levels.size(); ++i) step = std::min(step, levels[i] - levels[i - 1]);
  for (size_t i = 1; i < levels.size(); ++i) {
    const double multiple = (levels[i] - levels[0]) / step;
    if (std::fabs(multiple - std::round(multiple)) > 1e-6) return 0.0;
  }
  return step;
}

HistogramBins histogram_bins(std::span<const double> values, size_t min_bins, size_t max_bins) {
  HistogramBins bins;
  const std::vector<double> sorted = sorted_finite(values);
  if (sorted.empty()) return bins;
  const double lo = sorted.front(), hi = sorted.back();
  const double step = discrete_step(sorted);
  if (step > 0.0) {
    bins.discrete = true;
    const size_t k = size_t(std::llround((hi - lo) / step)) + 1;
    for (size_t i = 0; i <= k; ++i) bins.edges.push_back(lo + (double(i) - 0.5) * step);
    bins.counts.assign(k, 0);
    for (double v : sorted) bins.counts[std::min(k - 1, size_t(std::llround((v - lo) / step)))]++;
    return bins;
  }
  if (hi == lo) {
    bins.edges = {lo - 0.5, lo + 0.5};
    bins.counts = {sorted.size()};
    return bins;
  }
  const double iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25);
  size_t k = max_bins;
  if (iqr > 0.0) {
    const double width = 2.0 * iqr / std::cbrt(double(sorted.size()));
    k = size_t(std::ceil((hi - lo) / width));
  }
  k = std::clamp(k, min_bins, max_bins);
  const double width = (hi - lo) / double(k);
  for (size_t i = 0; i <= k; ++i) bins.edges.push_back(lo + width * double(i));
  bins.edges.back() = hi;
  bins.counts.assign(k, 0);
  for (double v : sorted) bins.counts[std::min(k - 1, size_t((v - lo) / width))]++;
  return bins;
}

std::vector<CalibrationBin> calibration_bins(std::span<const double> pred, std::span<const double> human,
                                             size_t target_bins) {
  std::vector<CalibrationBin> bins;
  const size_t n = std::min(pred.size(), human.size());
  if (n == 0 || target_bins == 0) return bins;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return pred[a] < pred[b]; });
  const bool per_level = discrete_step(pred.first(n), 2 * target_bins) > 0.0;
  size_t start = 0;
  for (size_t b = 1; start < n; ++b) {
    size_t end = per_level ? start + 1 : std::max(start + 1, (n * b + target_bins / 2) / target_bins);
    end = std::min(end, n);
    // Extend over a run of equal predictions, so one value's rows land in one bin.
    while (end < n && pred[order[end]] == pred[order[end - 1]]) ++end;
    bins.push_back(summarize(std::span<const size_t>(order).subspan(start, end - start), pred, human));
    start = end;
  }
  return bins;
}

std::vector<double> jitter(std::span<const double> values, double fraction, uint64_t seed) {
  std::vector<double> out(values.begin(), values.end());
  const double step = discrete_step(values);
  if (step == 0.0) return out;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> noise(-fraction * step, fraction * step);
  for (double& v : out) v += noise(rng);
  return out;
}

std::vector<double> preference_margins(const std::vector<PreferenceRow>& rows) {
  std::vector<double> margins;
  margins.reserve(rows.size());
  for (const PreferenceRow& row : rows) margins.push_back(row.chosen - row.rejected);
  return margins;
}

std::vector<double> best_of_n_margins(const std::vector<BestOfNRow>& rows) {
  std::vector<double> margins;
  for (const BestOfNRow& row : rows) {
    if (row.num_correct < 1 || size_t(row.num_correct) >= row.scores.size()) continue;
    const auto split = row.scores.begin() + row.num_correct;
    margins.push_back(*std::min_element(row.scores.begin(), split) - *std::max_element(split, row.scores.end()));
  }
  return margins;
}

}  // namespace arbiter::eval

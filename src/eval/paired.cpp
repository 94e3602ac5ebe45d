#include "eval/paired.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace arbiter::eval {

Result<PairedComparison> compare_paired(const std::vector<std::string>& names, size_t rows,
                                        const SystemStatistic& statistic, const BootstrapOptions& options) {
  if (names.size() < 2) return error("a comparison needs at least two systems, got " + std::to_string(names.size()));
  if (rows < 2) return error("a comparison needs at least 2 rows, got " + std::to_string(rows));
  if (options.resamples < 1) return error("a comparison needs at least 1 bootstrap resample");
  if (!(options.level > 0.0 && options.level < 1.0)) return error("bootstrap level must lie in (0, 1)");
  const size_t k = names.size();
  PairedComparison out;
  out.rows = rows;
  out.resamples = options.resamples;
  std::vector<size_t> all(rows);
  std::iota(all.begin(), all.end(), size_t(0));
  for (size_t s = 0; s < k; ++s) out.systems.push_back({names[s], statistic(s, all), {}});

  // [system][resample]; every system sees the same resampled rows.
  std::vector<std::vector<double>> resampled(k, std::vector<double>(size_t(options.resamples)));
  BootstrapIndices indices(rows, options.seed);
  std::vector<size_t> drawn;
  for (int b = 0; b < options.resamples; ++b) {
    indices.next(drawn);
    for (size_t s = 0; s < k; ++s) resampled[s][size_t(b)] = statistic(s, drawn);
  }
  for (size_t s = 0; s < k; ++s) out.systems[s].ci = percentile_interval(resampled[s], options.level);

  for (size_t s = 1; s < k; ++s) {
    DifferenceResult d;
    d.system = names[s];
    d.baseline = names[0];
    d.difference = out.systems[s].value - out.systems[0].value;
    std::vector<double> differences;
    size_t at_or_below = 0, at_or_above = 0;
    for (int b = 0; b < options.resamples; ++b) {
      const double value = resampled[s][size_t(b)] - resampled[0][size_t(b)];
      if (std::isnan(value)) continue;
      differences.push_back(value);
      at_or_below += value <= 0.0;
      at_or_above += value >= 0.0;
    }
    d.ci = percentile_interval(differences, options.level);
    const double used = double(differences.size());
    if (used > 0) {
      const double one_sided = double(std::min(at_or_below, at_or_above)) / used;
      d.p_value = std::clamp(2.0 * one_sided, 1.0 / (used + 1.0), 1.0);
    } else {
      d.p_value = std::nan("");
    }
    out.differences.push_back(std::move(d));
  }
  return out;
}

Result<McNemarResult> mcnemar_exact(std::span<const char> baseline_right, std::span<const char> system_right) {
  if (baseline_right.size() != system_right.size())
    return error("McNemar: " + std::to_string(baseline_right.size()) + " verdicts against " +
                 std::to_string(system_right.size()));
  McNemarResult out;
  for (size_t i = 0; i < baseline_right.size(); ++i) {
    out.only_baseline += baseline_right[i] && !system_right[i];
    out.only_system += !baseline_right[i] && system_right[i];
  }
  const size_t n = out.only_baseline + out.only_system;
  const size_t smaller = std::min(out.only_baseline, out.only_system);
  if (n == 0) return out;
  // P(X <= smaller) for X ~ Binomial(n, 1/2), summed in log space (n may be in the thousands), doubled.
  const double log_half_n = double(n) * std::log(0.5);
  double tail = 0.0;
  for (size_t j = 0; j <= smaller; ++j) {
    const double log_choose = std::lgamma(double(n) + 1.0) - std::lgamma(double(j) + 1.0) - std::lgamma(double(n - j) + 1.0);
    tail += std::exp(log_choose + log_half_n);
  }
  out.p_value = std::min(1.0, 2.0 * tail);
  return out;
}

}  // namespace arbiter::eval

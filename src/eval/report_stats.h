// The numbers behind the report figures: histogram bins, calibration bins, jitter for discrete scores,
// and reward margins. Pure functions of their inputs, tested on their own.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "eval/rewardbench.h"

namespace arbiter::eval {

// The spacing of a discrete score scale: when `values` take at most `max_levels` distinct values that all
// lie on one grid (every gap a whole multiple of the smallest gap, within rounding), the smallest gap;
// otherwise 0. Human ratings 1..5 give 1; means of three raters give 1/3; a continuous score gives 0.
double discrete_step(std::span<const double> values, size_t max_levels = 25);

struct HistogramBins {
  std::vector<double> edges;   // [k+1], increasing
  std::vector<size_t> counts;  // [k]; sums to the number of finite values
  bool discrete = false;       // one bin per grid point, centred on it
};

// Discrete values (discrete_step > 0): one bin per grid point from the smallest to the largest value.
// Otherwise equal-width bins, the Freedman-Diaconis width (2 IQR / n^(1/3)), their number clamped to
// [min_bins, max_bins]. The top edge is inclusive. Non-finite values are skipped.
HistogramBins histogram_bins(std::span<const double> values, size_t min_bins = 10, size_t max_bins = 40);

struct CalibrationBin {
  double pred_lo = 0.0, pred_hi = 0.0;  // smallest and largest prediction in the bin
  size_t n = 0;
  double mean_pred = 0.0, mean_human = 0.0;
  double se_human = 0.0;  // standard error of mean_human (sample sd / sqrt(n)); NaN when n < 2 (unknown)
};

// Mean human score per predicted-score bin. Discrete predictions with at most 2 * target_bins levels:
// one bin per level. Otherwise about `target_bins` bins of equal count over the sorted predictions, a run
// of equal predictions never split between bins. Inputs must have equal length (the caller checked).
std::vector<CalibrationBin> calibration_bins(std::span<const double> pred, std::span<const double> human,
                                             size_t target_bins = 10);

// For a scatter of discrete scores, where many points would sit on one spot: each value plus uniform
// noise in +-fraction * discrete_step, deterministic for a seed. Continuous values come back unchanged.
std::vector<double> jitter(std::span<const double> values, double fraction, uint64_t seed);

// Chosen minus rejected, per row.
std::vector<double> preference_margins(const std::vector<PreferenceRow>& rows);

// Per best-of-N row with at least one correct and one incorrect completion: the worst correct score
// minus the best incorrect one (positive exactly when the row counts as right).
std::vector<double> best_of_n_margins(const std::vector<BestOfNRow>& rows);

}  // namespace arbiter::eval

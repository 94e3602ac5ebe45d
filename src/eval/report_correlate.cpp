// The correlate report: the correlation table, both score distributions, and calibration.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>
#include <random>
#include <vector>

#include "eval/report_builders.h"
#include "eval/report_stats.h"
#include "eval/svg_chart.h"

namespace arbiter::eval {
namespace {

using nlohmann::json;

json bins_json(const HistogramBins& bins) {
  return {{"edges", bins.edges}, {"counts", bins.counts}, {"discrete", bins.discrete}};
}

json distribution_json(std::span<const double> values, const HistogramBins& bins) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  double mean = 0.0;
  for (double v : values) mean += v;
  mean /= double(std::max<size_t>(1, values.size()));
  return {{"min", values.empty() ? json() : json(*lo)},
          {"max", values.empty() ? json() : json(*hi)},
          {"mean", json_number(mean)},
          {"discrete_step", discrete_step(values)},
          {"histogram", bins_json(bins)}};
}

ReportFigure histogram_figure(const std::string& id, const std::string& title, const std::string& axis,
                              const HistogramBins& bins, size_t n) {
  svg::Histogram chart;
  chart.title = title;
  chart.x_label = axis;
  chart.edges = bins.edges;
  chart.counts = bins.counts;
  const std::string how =
      bins.discrete ? "one bar per score level" : std::to_string(bins.counts.size()) + " equal-width bins";
  return {id, title + ": " + std::to_string(n) + " items, " + how + ".", svg::histogram(chart)};
}

ReportSection correlation_section(const CorrelationReport& r, const CorrelateSource& source) {
  ReportSection section{.id = "correlation", .title = "Correlation with human labels"};
  std::string p = std::to_string(r.n) + " items.";
  if (r.has_intervals) {
    char buf[200];
    std::snprintf(buf, sizeof(buf), " Intervals: %.0f%% percentile bootstrap, %d resamples, seed %llu.",
                  100.0 * source.bootstrap.level, source.bootstrap.resamples,
                  static_cast<unsigned long long>(source.bootstrap.seed));
    p += buf;
  }
  if (r.pred_constant) p += " The predictions are constant, so the correlations are undefined.";
  if (r.human_constant) p += " The human labels are constant, so the correlations are undefined.";
  section.paragraphs.push_back(p);
  ReportTable table{.header = {"metric", "value", "CI low", "CI high", "resamples used"}};
  const auto row = [&](const std::string& name, double value, const Interval* ci) {
    if (ci && r.has_intervals) {
      table.rows.push_back({name, report_number(value, 3), report_number(ci->lo, 3), report_number(ci->hi, 3),
                            std::to_string(ci->resamples_used)});
    } else {
      table.rows.push_back({name, report_number(value, 3), "", "", ""});
    }
  };
  row("Spearman", r.spearman, &r.spearman_ci);
  row("Kendall tau-b", r.kendall_tau_b, &r.kendall_ci);
  row("Pearson", r.pearson, &r.pearson_ci);
  row("pairwise accuracy", r.pairwise_accuracy, nullptr);
  section.tables.push_back(std::move(table));
  return section;
}

ReportFigure calibration_figure(const std::vector<CalibrationBin>& bins, double overall_human_mean) {
  // Equal-count bins all hold about n / bins items, and crowd where predictions are dense: their counts
  // go in the caption and the table. Per-level bins differ in size, so each point is labelled.
  bool per_level = true;
  for (const CalibrationBin& b : bins) per_level = per_level && b.pred_lo == b.pred_hi;
  size_t min_n = bins.empty() ? 0 : bins.front().n, max_n = min_n;
  for (const CalibrationBin& b : bins) min_n = std::min(min_n, b.n), max_n = std::max(max_n, b.n);
  svg::Series means{.name = "mean human score", .line = true, .marker_radius = 4.0};
  for (const CalibrationBin& b : bins) {
    means.points.push_back({b.mean_pred, b.mean_human});
    means.y_errors.push_back({b.mean_human - 1.96 * b.se_human, b.mean_human + 1.96 * b.se_human});
    if (per_level) means.point_labels.push_back("n=" + std::to_string(b.n));
    means.tooltips.push_back("predicted " + report_number(b.pred_lo, 3) + " .. " + report_number(b.pred_hi, 3) +
                             ": n=" + std::to_string(b.n) + ", mean human " + report_number(b.mean_human, 3));
  }
  svg::XYChart chart{.title = "Calibration: mean human score per predicted-score bin",
                     .x_label = "predicted score (bin mean)",
                     .y_label = "mean human score"};
  chart.series.push_back(std::move(means));
  chart.y_reference = overall_human_mean;
  std::string caption = "Mean human score (with 95% normal intervals, 1.96 standard errors) in each bin of the "
                        "predicted score, at the bin's mean prediction; ";
  caption += per_level ? "n is the bin's item count."
                       : std::to_string(bins.size()) + " bins of " + std::to_string(min_n) +
                             (min_n == max_n ? "" : " to " + std::to_string(max_n)) + " items.";
  caption += " Dashed: the overall mean human score.";
  return {"calibration", caption, svg::xy_chart(chart)};
}

ReportFigure scatter_figure(std::span<const double> pred, std::span<const double> human,
                            const std::vector<CalibrationBin>& bins) {
  const std::vector<double> x = jitter(pred, 0.3, 1), y = jitter(human, 0.3, 2);
  svg::Series points{.name = "items", .color = svg::kBlue, .line = false, .marker_radius = 2.2, .opacity = 0.35};
  // A browser stalls on a million SVG circles (a 70 MB file), and more points than pixels show nothing
  // more: above kMaxPoints, a random sample of that many is drawn (seeded, so a report is reproducible;
  // random, so a file whose rows alternate in kind is not drawn as one kind).
  constexpr size_t kMaxPoints = 20000;
  std::vector<size_t> shown(x.size());
  std::iota(shown.begin(), shown.end(), size_t(0));
  if (shown.size() > kMaxPoints) {
    std::vector<size_t> sample;
    std::sample(shown.begin(), shown.end(), std::back_inserter(sample), kMaxPoints, std::mt19937_64(20240601));
    shown = std::move(sample);
  }
  for (const size_t i : shown) points.points.push_back({x[i], y[i]});
  const size_t drawn = shown.size();
  svg::Series means{.name = "bin means", .color = svg::kOrange, .line = true, .marker_radius = 4.0};
  for (const CalibrationBin& b : bins) means.points.push_back({b.mean_pred, b.mean_human});
  svg::XYChart chart{.title = "Human score against predicted score",
                     .x_label = "predicted score",
                     .y_label = "human score"};
  chart.series.push_back(std::move(points));
  chart.series.push_back(std::move(means));
  std::string caption = drawn == x.size() ? "One point per item"
                                          : "One point per item for a random " + std::to_string(drawn) + " of the " +
                                                std::to_string(x.size()) + " items (the same ones every run)";
  const bool jx = discrete_step(pred) > 0.0, jy = discrete_step(human) > 0.0;
  if (jx || jy) {
    caption += std::string(", jittered ") + (jx && jy ? "on both axes" : jx ? "horizontally" : "vertically") +
               " by up to 0.3 of a score step so that equal scores do not hide each other";
  }
  caption += "; orange: the calibration bin means.";
  return {"scatter", caption, svg::xy_chart(chart)};
}

ReportTable calibration_table(const std::vector<CalibrationBin>& bins) {
  ReportTable table{.caption = "Calibration bins",
                    .header = {"bin", "predicted from", "predicted to", "n", "mean predicted", "mean human",
                               "std. error"}};
  for (size_t i = 0; i < bins.size(); ++i) {
    const CalibrationBin& b = bins[i];
    table.rows.push_back({std::to_string(i + 1), report_number(b.pred_lo, 4), report_number(b.pred_hi, 4),
                          std::to_string(b.n), report_number(b.mean_pred, 4), report_number(b.mean_human, 3),
                          report_number(b.se_human, 3)});
  }
  return table;
}

}  // namespace

Report correlate_report(std::span<const double> pred, std::span<const double> human, const CorrelationReport& metrics,
                        const CorrelateSource& source) {
  const CorrelationReport& r = metrics;
  Report report;
  report.title = "Agreement with human labels";
  report.notes = {"predictions: " + source.pred_path, "human labels: " + source.human_path};

  json& data = report.data;
  data = {{"command", "correlate"}, {"inputs", {{"pred", source.pred_path}, {"human", source.human_path}}}, {"n", r.n}};
  const auto metric = [&](const char* name, double value, const Interval* ci) {
    json entry = {{"value", json_number(value)}};
    if (ci && r.has_intervals)
      entry["ci95"] = {json_number(ci->lo), json_number(ci->hi)}, entry["resamples_used"] = ci->resamples_used;
    data[name] = entry;
  };
  metric("spearman", r.spearman, &r.spearman_ci);
  metric("kendall_tau_b", r.kendall_tau_b, &r.kendall_ci);
  metric("pearson", r.pearson, &r.pearson_ci);
  metric("pairwise_accuracy", r.pairwise_accuracy, nullptr);
  if (r.has_intervals)
    data["bootstrap"] = {{"resamples", source.bootstrap.resamples},
                         {"seed", source.bootstrap.seed},
                         {"level", source.bootstrap.level}};
  data["pred_constant"] = r.pred_constant;
  data["human_constant"] = r.human_constant;

  const HistogramBins pred_bins = histogram_bins(pred), human_bins = histogram_bins(human);
  data["pred"] = distribution_json(pred, pred_bins);
  data["human"] = distribution_json(human, human_bins);
  const std::vector<CalibrationBin> bins = calibration_bins(pred, human);
  json calibration = json::array();
  for (const CalibrationBin& b : bins)
    calibration.push_back({{"pred_lo", b.pred_lo}, {"pred_hi", b.pred_hi}, {"n", b.n}, {"mean_pred", b.mean_pred},
                           {"mean_human", b.mean_human}, {"se_human", json_number(b.se_human)}});
  data["calibration"] = calibration;

  report.sections.push_back(correlation_section(r, source));
  ReportSection histograms{.id = "histograms", .title = "Score distributions"};
  histograms.figures.push_back(
      histogram_figure("hist-pred", "Predicted scores", "predicted score", pred_bins, pred.size()));
  histograms.figures.push_back(histogram_figure("hist-human", "Human scores", "human score", human_bins, human.size()));
  report.sections.push_back(std::move(histograms));

  ReportSection calibration_section{.id = "calibration", .title = "Calibration"};
  calibration_section.paragraphs.push_back(
      "Items sorted by predicted score and cut into bins of about equal count (a discrete prediction: one bin per "
      "level). A well-ordered judge's bin means rise from left to right.");
  double human_mean = 0.0;
  for (double h : human) human_mean += h;
  human_mean /= double(std::max<size_t>(1, human.size()));
  calibration_section.figures.push_back(calibration_figure(bins, human_mean));
  calibration_section.figures.push_back(scatter_figure(pred, human, bins));
  calibration_section.tables.push_back(calibration_table(bins));
  report.sections.push_back(std::move(calibration_section));
  return report;
}

}  // namespace arbiter::eval

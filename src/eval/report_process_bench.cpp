// The ProcessBench report: the first-error accuracies and F1 at the chosen threshold, overall and by
// subset, and how all three move with the threshold (the best F1 ringed, as an upper bound tuned on
// these rows).
#include <cmath>

#include "eval/report_builders.h"
#include "eval/svg_chart.h"

namespace arbiter::eval {

namespace {

nlohmann::json score_json(const ProcessBenchScore& s) {
  return {{"erroneous", s.erroneous},
          {"erroneous_accuracy", json_number(s.erroneous_accuracy)},
          {"correct", s.correct},
          {"correct_accuracy", json_number(s.correct_accuracy)},
          {"f1", json_number(s.f1)}};
}

std::vector<std::string> score_row(const std::string& name, const ProcessBenchScore& s) {
  return {name,
          std::to_string(s.erroneous),
          report_number(100.0 * s.erroneous_accuracy, 1),
          std::to_string(s.correct),
          report_number(100.0 * s.correct_accuracy, 1),
          report_number(100.0 * s.f1, 1)};
}

}  // namespace

Report process_bench_report_pages(size_t n_rows, const ProcessBenchReport& scores, const std::string& input_path) {
  Report report;
  report.title = "ProcessBench: finding the first wrong step";
  report.notes = {"rows: " + input_path + " (" + std::to_string(n_rows) + ")",
                  "threshold: " + report_number(scores.threshold, 2) + " (a step rewarded below it is the predicted first error)"};

  nlohmann::json subsets = nlohmann::json::object(), sweep = nlohmann::json::array();
  for (const auto& [name, s] : scores.by_subset) subsets[name] = score_json(s);
  for (const auto& [t, s] : scores.sweep) {
    nlohmann::json point = score_json(s);
    point["threshold"] = t;
    sweep.push_back(std::move(point));
  }
  report.data = score_json(scores.overall);
  report.data["command"] = "processbench";
  report.data["input"] = input_path;
  report.data["threshold"] = scores.threshold;
  report.data["subsets"] = subsets;
  if (!scores.by_subset.empty()) report.data["mean_subset_f1"] = json_number(scores.mean_subset_f1);
  report.data["best_threshold"] = scores.best_threshold;
  report.data["best_f1"] = json_number(scores.best_f1);
  report.data["sweep"] = sweep;

  ReportSection section{.id = "threshold", .title = "First wrong step, by threshold"};
  section.paragraphs.push_back(
      "A solution's predicted first error is its first step rewarded below the threshold (none: no error). "
      "Found: solutions with a wrong step whose first one is predicted exactly; clean: solutions without one "
      "for which none is predicted. F1 is their harmonic mean (ProcessBench's score). At " +
      report_number(scores.threshold, 2) + ": F1 " + report_number(100.0 * scores.overall.f1, 1) + "; the best on " +
      "these rows is " + report_number(100.0 * scores.best_f1, 1) + " at " + report_number(scores.best_threshold, 2) +
      ", tuned on the evaluated rows themselves: an upper bound, not a held-out result.");

  svg::XYChart chart{.title = "Accuracy and F1 by threshold", .x_label = "threshold", .y_label = "%"};
  struct Line {
    const char* name;
    double ProcessBenchScore::*field;
    const char* color;
  };
  for (const Line& l : {Line{"F1", &ProcessBenchScore::f1, svg::kBlue},
                        Line{"found (wrong step)", &ProcessBenchScore::erroneous_accuracy, svg::kOrange},
                        Line{"clean (all right)", &ProcessBenchScore::correct_accuracy, svg::kGray}}) {
    svg::Series series{.name = l.name, .color = l.color, .marker_radius = 0.0};
    for (const auto& [t, s] : scores.sweep) series.points.push_back({t, 100.0 * (s.*l.field)});
    chart.series.push_back(std::move(series));
  }
  chart.x = svg::Range{0.0, 1.0};
  chart.y = svg::Range{0.0, 100.0};
  if (std::isfinite(scores.best_f1))
    chart.callouts.push_back({{scores.best_threshold, 100.0 * scores.best_f1},
                              "best F1 " + report_number(100.0 * scores.best_f1, 1) + " at " +
                                  report_number(scores.best_threshold, 2)});
  section.figures.push_back({"threshold", "F1 and the two accuracies as the threshold moves; ringed: the best F1.",
                             svg::xy_chart(chart)});

  ReportTable table{.caption = "At threshold " + report_number(scores.threshold, 2),
                    .header = {"subset", "wrong", "found %", "right", "clean %", "F1"}};
  for (const auto& [name, s] : scores.by_subset) table.rows.push_back(score_row(name, s));
  table.rows.push_back(score_row("all", scores.overall));
  if (!scores.by_subset.empty())
    table.rows.push_back({"mean of subsets (ProcessBench's average)", "", "", "", "", report_number(100.0 * scores.mean_subset_f1, 1)});
  section.tables.push_back(std::move(table));
  report.sections.push_back(std::move(section));
  return report;
}

}  // namespace arbiter::eval

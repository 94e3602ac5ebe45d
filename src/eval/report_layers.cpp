// The layers report: Spearman of each layer's expected score with the human labels (or, for listwise
// reads, each layer's accuracy), as a line over the layers (the LAGER paper's layer figure), the best
// layer ringed.
#include <cmath>

#include "eval/report_builders.h"
#include "eval/svg_chart.h"

namespace arbiter::eval {

namespace {

// What the report plots per layer, and the words for it.
struct LayerMeasure {
  const char* key;    // in report.json: layers[].KEY, best_KEY
  const char* label;  // table column and axis
  const char* what;   // the section's opening sentence
  const char* none;   // when no layer has a defined value
};

const LayerMeasure kSpearman{
    "spearman", "Spearman",
    "Each layer's expected score (softmax over the score tokens' logits read through that layer, times the score "
    "values) against the human labels; layer 0 is the embeddings, the last the final layer.",
    "No layer has a defined Spearman (every layer's expected score is constant)."};

const LayerMeasure kListwiseAccuracy{
    "accuracy", "accuracy",
    "Each layer's listwise accuracy: the share of reads whose label logits, read through that layer, put the "
    "response people rank best alone on top; layer 0 is the embeddings, the last the final layer.",
    "No layer has a defined accuracy."};

// values[l] for layer l.
Report layers_report_of(size_t n_rows, const std::vector<double>& values, const std::string& input_path,
                        const std::string& human_field, const LayerMeasure& measure) {
  Report report;
  report.title = "Per-layer agreement with human labels";
  report.notes = {"rows: " + input_path + " (" + std::to_string(n_rows) + ")", "human label field: " + human_field};

  // The best layer: highest defined value, the earliest on a tie.
  int best = -1;
  for (size_t l = 0; l < values.size(); ++l)
    if (std::isfinite(values[l]) && (best < 0 || values[l] > values[size_t(best)])) best = int(l);
  const std::string label = measure.label;

  nlohmann::json rows = nlohmann::json::array();
  for (size_t l = 0; l < values.size(); ++l) rows.push_back({{"layer", l}, {measure.key, json_number(values[l])}});
  report.data = {{"command", "layers"}, {"input", input_path}, {"n", n_rows}, {"layers", rows}};
  report.data["best_layer"] = best >= 0 ? nlohmann::json(best) : nlohmann::json();
  report.data[std::string("best_") + measure.key] = best >= 0 ? nlohmann::json(values[size_t(best)]) : nlohmann::json();

  ReportSection section{.id = "layers", .title = label + " by layer"};
  std::string p = measure.what;
  if (best >= 0) {
    p += " Best: layer " + std::to_string(best) + ", " + label + " " + report_number(values[size_t(best)], 4) +
         "; final: " + report_number(values.back(), 4) + ".";
  } else {
    p += std::string(" ") + measure.none;
  }
  section.paragraphs.push_back(p);

  svg::Series line{.name = label, .line = true, .marker_radius = 3.0};
  for (size_t l = 0; l < values.size(); ++l) {
    line.points.push_back({double(l), values[l]});
    line.tooltips.push_back("layer " + std::to_string(l) + ": " + report_number(values[l], 4));
  }
  svg::XYChart chart{.title = label + " with human labels by layer", .x_label = "layer", .y_label = label};
  chart.series.push_back(std::move(line));
  chart.integer_x = true;
  chart.y_reference = 0.0;
  if (best >= 0)
    chart.callouts.push_back({{double(best), values[size_t(best)]},
                              "best: layer " + std::to_string(best) + ", " + report_number(values[size_t(best)], 3)});
  section.figures.push_back({"layers", label + " of each layer with the human labels; ringed: the best layer. Gaps: "
                                       "layers without a defined value.",
                             svg::xy_chart(chart)});

  ReportTable table{.header = {"layer", label}};
  for (size_t l = 0; l < values.size(); ++l) {
    const std::string name = std::to_string(l) + (int(l) == best ? " (best)" : "");
    table.rows.push_back({name, report_number(values[l], 4)});
  }
  section.tables.push_back(std::move(table));
  report.sections.push_back(std::move(section));
  return report;
}

}  // namespace

Report layers_report(size_t n_rows, const std::vector<LayerCorrelation>& layers, const std::string& input_path,
                     const std::string& human_field) {
  std::vector<double> values;
  for (const LayerCorrelation& l : layers) values.push_back(l.spearman);
  return layers_report_of(n_rows, values, input_path, human_field, kSpearman);
}

Report layers_accuracy_report(size_t n_rows, const std::vector<double>& accuracy, const std::string& input_path,
                              const std::string& human_field) {
  return layers_report_of(n_rows, accuracy, input_path, human_field, kListwiseAccuracy);
}

}  // namespace arbiter::eval

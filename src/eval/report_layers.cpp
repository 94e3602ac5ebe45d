// The layers report: Spearman of each layer's expected score with the human labels, as a line over
// the layers (the LAGER paper's layer figure), the best layer ringed.
#include <cmath>

#include "eval/report_builders.h"
#include "eval/svg_chart.h"

namespace arbiter::eval {

Report layers_report(size_t n_rows, const std::vector<LayerCorrelation>& layers, const std::string& input_path,
                     const std::string& human_field) {
  Report report;
  report.title = "Per-layer agreement with human labels";
  report.notes = {"rows: " + input_path + " (" + std::to_string(n_rows) + ")", "human label field: " + human_field};

  // The best layer: highest defined Spearman, the earliest on a tie.
  const LayerCorrelation* best = nullptr;
  for (const LayerCorrelation& l : layers)
    if (std::isfinite(l.spearman) && (!best || l.spearman > best->spearman)) best = &l;

  nlohmann::json rows = nlohmann::json::array();
  for (const LayerCorrelation& l : layers) rows.push_back({{"layer", l.layer}, {"spearman", json_number(l.spearman)}});
  report.data = {{"command", "layers"}, {"input", input_path}, {"n", n_rows}, {"layers", rows}};
  report.data["best_layer"] = best ? nlohmann::json(best->layer) : nlohmann::json();
  report.data["best_spearman"] = best ? nlohmann::json(best->spearman) : nlohmann::json();

  ReportSection section{.id = "layers", .title = "Spearman by layer"};
  std::string p = "Each layer's expected score (softmax over the score tokens' logits read through that layer, times "
                  "the score values) against the human labels; layer 0 is the embeddings, the last the final layer.";
  if (best) {
    p += " Best: layer " + std::to_string(best->layer) + ", Spearman " + report_number(best->spearman, 4) +
         "; final: " + report_number(layers.back().spearman, 4) + ".";
  } else {
    p += " No layer has a defined Spearman (every layer's expected score is constant).";
  }
  section.paragraphs.push_back(p);

  svg::Series line{.name = "Spearman", .line = true, .marker_radius = 3.0};
  for (const LayerCorrelation& l : layers) {
    line.points.push_back({double(l.layer), l.spearman});
    line.tooltips.push_back("layer " + std::to_string(l.layer) + ": " + report_number(l.spearman, 4));
  }
  svg::XYChart chart{.title = "Spearman with human labels by layer", .x_label = "layer", .y_label = "Spearman"};
  chart.series.push_back(std::move(line));
  chart.integer_x = true;
  chart.y_reference = 0.0;
  if (best)
    chart.callouts.push_back({{double(best->layer), best->spearman},
                              "best: layer " + std::to_string(best->layer) + ", " + report_number(best->spearman, 3)});
  section.figures.push_back({"layers", "Spearman of each layer's expected score with the human labels; ringed: the "
                                       "best layer. Gaps: layers whose expected score is constant.",
                             svg::xy_chart(chart)});

  ReportTable table{.header = {"layer", "Spearman"}};
  for (const LayerCorrelation& l : layers) {
    const std::string name = std::to_string(l.layer) + (best && &l == best ? " (best)" : "");
    table.rows.push_back({name, report_number(l.spearman, 4)});
  }
  section.tables.push_back(std::move(table));
  report.sections.push_back(std::move(section));
  return report;
}

}  // namespace arbiter::eval

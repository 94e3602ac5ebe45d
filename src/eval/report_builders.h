// The reports of the three eval commands, built from the numbers those commands computed. Each takes the
// metric results as computed (not recomputing them), so report.json holds exactly what the metric
// functions returned.
//
// Section ids (the HTML <section id>): correlate: "correlation", "histograms", "calibration";
// rewardbench: "categories", "subsets", "margins" (v2 adds "ties" when the Ties subset is present);
// layers: "layers"; processbench: "threshold"; rmbench: "difficulty", "domains", "styles"; compare: "systems", "differences".
#pragma once

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <vector>

#include "eval/layers.h"
#include "eval/metrics.h"
#include "eval/paired.h"
#include "eval/process_bench.h"
#include "eval/report.h"
#include "eval/rewardbench.h"
#include "eval/rm_bench.h"

namespace arbiter::eval {

struct CorrelateSource {
  std::string pred_path, human_path;
  BootstrapOptions bootstrap;
};

// pred and human as given to correlate(), `metrics` its result.
Report correlate_report(std::span<const double> pred, std::span<const double> human, const CorrelationReport& metrics,
                        const CorrelateSource& source);

// {subset: {n, correct, ties, accuracy}}: what --json and report.json give per subset.
nlohmann::json subset_accuracies_json(const std::vector<SubsetAccuracy>& subsets);

Report rewardbench_v1_report(const std::vector<PreferenceRow>& rows, const RewardBenchReport& scores,
                             const std::string& input_path);

Report rewardbench_v2_report(const std::vector<BestOfNRow>& rows, const RewardBench2Report& scores,
                             const std::string& input_path);

// `layers` from layer_spearman over `n_rows` rows.
Report layers_report(size_t n_rows, const std::vector<LayerCorrelation>& layers, const std::string& input_path,
                     const std::string& human_field);
// Listwise reads: `accuracy` [L+1] from layer_best_first_accuracy over `n_rows` reads.
Report layers_accuracy_report(size_t n_rows, const std::vector<double>& accuracy, const std::string& input_path,
                              const std::string& human_field);

// What `eval rmbench --json` prints and report.json holds (percent; matrices as shares).
nlohmann::json rm_bench_scores_json(const RmBenchScores& scores, bool with_matrix);
nlohmann::json rm_bench_json(const RmBenchReport& scores, size_t rows, size_t error_rows);
Report rm_bench_report(const RmBenchReport& scores, size_t rows, size_t error_rows, const std::string& input_path);

// `scores` from process_bench_report over `n_rows` scored solutions.
Report process_bench_report_pages(size_t n_rows, const ProcessBenchReport& scores, const std::string& input_path);

// What a paired comparison compared: the statistic, each system's file and field ("" for a file's chosen /
// rejected rows), the human labels' file and field (correlations), how rows were paired.
struct ComparisonSource {
  std::string metric{}, statistic{};
  std::vector<std::string> files{}, fields{};  // [systems]
  std::string human_file{}, human_field{};
  std::string paired_by{};  // "position" or "'id'"
  BootstrapOptions bootstrap{};
};

// What `eval compare --json` prints and report.json holds; `mcnemar` [systems - 1] or empty.
nlohmann::json comparison_json(const PairedComparison& result, const std::vector<McNemarResult>& mcnemar,
                               const ComparisonSource& source);
Report comparison_report(const PairedComparison& result, const std::vector<McNemarResult>& mcnemar,
                         const ComparisonSource& source);

}  // namespace arbiter::eval

// Feature extraction: the hidden state of one residual-stream layer (or the final-normed last layer, what
// a sequence-classification head reads) at each response's last token, collected for every row into a
// features file for `arbiter train head` (docs/formats.md, "Features files"). With a step layout, the
// state at every step separator instead, one feature row per step, labelled step_correct where the row
// says which steps are right (ProcessBench's first wrong step, or a step_labels list).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "score/dataset_runner.h"
#include "score/formatter.h"
#include "score/step_reads.h"
#include "train/features_file.h"

namespace arbiter {

class FeaturesJob final : public RowJob {
 public:
  // layer: "final_norm" or "layerJ" with J in 0..L. steps: read at every separator (its tag_id resolved).
  static Result<std::unique_ptr<FeaturesJob>> create(const Model& model, std::shared_ptr<ConversationFormatter> formatter,
                                                     const std::string& layer, std::string output_path,
                                                     std::optional<StepLayout> steps = std::nullopt);
  ForwardOptions forward_options() const override;
  Result<std::vector<SequenceInput>> prepare(const data::Example& example) override;
  Result<nlohmann::json> finish(const data::Example& example, std::vector<SequenceOutput>& outputs) override;
  Status close() override;

 private:
  Result<nlohmann::json> finish_steps(const data::Example& example, std::vector<SequenceOutput>& outputs);
  // Ends a feature row whose R states were appended: its labels, id and dataset row.
  void close_row(const std::string& id, int64_t row_index, const std::map<std::string, double>& labels);

  const Model* model_ = nullptr;
  std::shared_ptr<ConversationFormatter> formatter_;
  int32_t layer_index_ = -1;  // -1: final_norm
  std::string output_path_;
  std::optional<StepLayout> steps_;
  train::FeatureSet set_;
};

}  // namespace arbiter

// Feature extraction: the hidden state of one residual-stream layer (or the final-normed last layer, what
// a sequence-classification head reads) at each response's last token, collected for every row into a
// features file for `arbiter train head` (docs/formats.md, "Features files").
#pragma once

#include <string>

#include "score/dataset_runner.h"
#include "score/formatter.h"
#include "train/features_file.h"

namespace arbiter {

class FeaturesJob final : public RowJob {
 public:
  // layer: "final_norm" or "layerJ" with J in 0..L.
  static Result<std::unique_ptr<FeaturesJob>> create(const Model& model, std::shared_ptr<ConversationFormatter> formatter,
                                                     const std::string& layer, std::string output_path);
  ForwardOptions forward_options() const override;
  Result<std::vector<SequenceInput>> prepare(const data::Example& example) override;
  Result<nlohmann::json> finish(const data::Example& example, std::vector<SequenceOutput>& outputs) override;
  Status close() override;

 private:
  const Model* model_ = nullptr;
  std::shared_ptr<ConversationFormatter> formatter_;
  int32_t layer_index_ = -1;  // -1: final_norm
  std::string output_path_;
  train::FeatureSet set_;
};

}  // namespace arbiter

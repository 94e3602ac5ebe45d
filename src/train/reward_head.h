// A linear reward head on a frozen backbone's hidden state: scores [num_labels] = weight x + bias, applied
// to raw features (any standardisation used in training is folded in). Stored as HEAD.safetensors:
//   score.weight F32 [num_labels, d], score.bias F32 [num_labels]
//   __metadata__ "format": "arbiter-reward-head", "labels" (JSON array), "layer", "objective", "model",
//   "model_fingerprint", "model_commit" (a pulled backbone's Hub commit), "feature_settings" (the options the training features were extracted with).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/run_settings.h"
#include "core/status.h"

namespace arbiter::train {

struct RewardHead {
  std::vector<std::string> labels;  // [num_labels]
  int64_t dim = 0;                  // d
  std::vector<double> weight;       // [num_labels, d] row-major
  std::vector<double> bias;         // [num_labels]
  std::string layer;                // residual stream the features came from ("final_norm", "layerJ")
  std::string objective;            // regression | bt | bt-margin | bt-scaled | combined | binary (a logit)
  // The backbone the training features came from: its path then and its fingerprint (model/fingerprint.h);
  // empty for heads written before they were kept.
  std::string model, model_fingerprint;
  // The Hub commit(s) of a backbone pulled from the Hub (features_file.h's model_commit); else empty.
  std::string model_commit;
  // The options of the extraction its training features came from (chat template, truncation, steps), so
  // that scoring can say when it formats sequences otherwise; none for heads written before they were kept.
  std::optional<RunSettings> feature_settings;

  size_t num_labels() const { return labels.size(); }
  const double* row(size_t label) const { return weight.data() + label * size_t(dim); }
};

// scores [num_labels] for one feature vector x [d].
std::vector<double> head_scores(const RewardHead& head, const float* x);
// The first label's score only (the scalar reward of a one-label head).
double head_score(const RewardHead& head, const float* x);

// Rounds weights and biases to f32, the precision the head's file keeps, so that what training reports
// (losses, validation metrics) is what the saved head scores. Values past f32's range are left as they are
// for reward_head_bytes to refuse by name.
void round_to_stored_precision(RewardHead& head);

Result<RewardHead> load_reward_head(const std::string& path);
// The head's file: an error naming `path` when a value is not finite or past f32's range (a diverged
// run), which no scorer could use.
Result<std::string> reward_head_bytes(const std::string& path, const RewardHead& head);
Status save_reward_head(const std::string& path, const RewardHead& head);

}  // namespace arbiter::train

// A Hugging Face *ForSequenceClassification checkpoint from a causal-LM backbone directory and a reward
// head trained on its final-norm features: config.json with the architecture renamed, num_labels and
// id2label/label2id set; model.safetensors with every backbone tensor except lm_head.weight, plus
// score.weight [num_labels, d] (F32). HF's classification heads (Llama, Qwen2/3, Mistral, Gemma2) have no
// bias: a non-zero bias is dropped from the weights, kept in config.json as "arbiter_score_bias", and
// reported in `warnings` (rankings are unaffected; absolute scores shift by the bias).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "train/reward_head.h"

namespace arbiter::train {

// What export_hf_classifier checks before it writes anything: the backbone's config.json (its hidden size
// and a *ForCausalLM architecture), that the head reads `layer` final_norm, and that out_dir holds no
// config.json. Run before training, so that a run that cannot export fails before its time is spent.
Status check_hf_export(const std::string& backbone_dir, const std::string& layer, int64_t dim, const std::string& out_dir);

// out_dir is created (it must not hold a config.json already). Tokenizer and other non-weight files of
// the backbone are copied. The backbone's tensors are read into memory while writing.
Status export_hf_classifier(const std::string& backbone_dir, const RewardHead& head, const std::string& out_dir,
                            std::vector<std::string>& warnings);

}  // namespace arbiter::train

#include "train/hf_export.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "data/json_rows.h"
#include "io/safetensors.h"

namespace arbiter::train {

namespace fs = std::filesystem;

namespace {

Result<nlohmann::ordered_json> read_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return error(path + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return error(path + ": not a JSON object");
  return doc;
}

// Files that are weights or the index of weights are not copied: the new model.safetensors replaces them.
bool is_weight_file(const std::string& name) {
  for (const char* ext : {".safetensors", ".bin", ".pth", ".pt", ".gguf", ".h5", ".msgpack"})
    if (name.size() >= std::strlen(ext) && name.compare(name.size() - std::strlen(ext), std::string::npos, ext) == 0)
      return true;
  return name == "model.safetensors.index.json" || name == "pytorch_model.bin.index.json" || name == "config.json";
}

}  // namespace

namespace {

// The backbone's config.json, checked against a head of `dim` read at `layer`, and the classifier's
// architecture name (LlamaForCausalLM -> LlamaForSequenceClassification).
Result<std::pair<nlohmann::ordered_json, std::string>> classifier_config(const std::string& backbone_dir,
                                                                         const std::string& layer, int64_t dim) {
  const std::string config_path = (fs::path(backbone_dir) / "config.json").string();
  ARB_ASSIGN(nlohmann::ordered_json config, read_config(config_path));
  if (!layer.empty() && layer != "final_norm")
    return error("the head was trained on '" + layer +
                 "' features; a sequence-classification head reads the final norm's output (final_norm)");
  if (!config.contains("hidden_size") || !config["hidden_size"].is_number_integer() ||
      config["hidden_size"].get<int64_t>() != dim)
    return error(config_path + ": hidden_size does not match the head's d = " + std::to_string(dim));
  if (!config.contains("architectures") || !config["architectures"].is_array() || config["architectures"].empty() ||
      !config["architectures"][0].is_string())
    return error(config_path + ": no 'architectures' list");
  std::string arch = config["architectures"][0].get<std::string>();
  const std::string causal = "ForCausalLM", seqcls = "ForSequenceClassification";
  if (arch.size() > causal.size() && arch.compare(arch.size() - causal.size(), std::string::npos, causal) == 0) {
    arch = arch.substr(0, arch.size() - causal.size()) + seqcls;
  } else if (arch.find(seqcls) == std::string::npos) {
    return error(config_path + ": architecture '" + arch + "' is not a *ForCausalLM model");
  }
  return std::make_pair(std::move(config), arch);
}

}  // namespace

Status check_hf_export(const std::string& backbone_dir, const std::string& layer, int64_t dim, const std::string& out_dir) {
  ARB_TRY(classifier_config(backbone_dir, layer, dim).status());
  if (fs::exists(fs::path(out_dir) / "config.json")) return error(out_dir + ": already holds a config.json");
  return Status::ok();
}

Status export_hf_classifier(const std::string& backbone_dir, const RewardHead& head, const std::string& out_dir,
                            std::vector<std::string>& warnings) {
  ARB_ASSIGN(auto checked, classifier_config(backbone_dir, head.layer, head.dim));
  nlohmann::ordered_json config = std::move(checked.first);
  const std::string arch = checked.second;
  config["architectures"] = {arch};
  config["num_labels"] = head.num_labels();
  nlohmann::ordered_json id2label = nlohmann::ordered_json::object(), label2id = nlohmann::ordered_json::object();
  for (size_t t = 0; t < head.num_labels(); ++t) {
    id2label[std::to_string(t)] = head.labels[t];
    label2id[head.labels[t]] = t;
  }
  config["id2label"] = id2label;
  config["label2id"] = label2id;
  bool bias_nonzero = false;
  for (double b : head.bias) bias_nonzero = bias_nonzero || b != 0.0;
  if (bias_nonzero) {
    config["arbiter_score_bias"] = head.bias;
    warnings.push_back(arch + "'s score layer has no bias: the head's bias is left out of model.safetensors (kept in "
                       "config.json as arbiter_score_bias); rankings are unchanged, absolute scores shift by it");
  }
  if (!config.contains("pad_token_id") || config["pad_token_id"].is_null())
    warnings.push_back("config.json has no pad_token_id: Hugging Face scores only batches of one sequence without it");

  ARB_ASSIGN(auto backbone, SafetensorsModel::open_dir(backbone_dir));
  std::vector<OwnedTensor> tensors;
  for (const TensorView* t : backbone->tensors()) {
    if (t->name == "lm_head.weight" || t->name == "score.weight") continue;
    OwnedTensor owned;
    owned.name = t->name;
    owned.dtype = t->dtype;
    owned.shape = t->shape;
    const uint8_t* bytes = static_cast<const uint8_t*>(t->data);
    owned.bytes.assign(bytes, bytes + t->nbytes);
    tensors.push_back(std::move(owned));
  }
  tensors.push_back(make_f32_tensor("score.weight", {int64_t(head.num_labels()), head.dim},
                                    std::vector<float>(head.weight.begin(), head.weight.end())));

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return error(out_dir + ": cannot create: " + ec.message());
  if (fs::exists(fs::path(out_dir) / "config.json")) return error(out_dir + ": already holds a config.json");
  for (const auto& entry : fs::directory_iterator(backbone_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || is_weight_file(name)) continue;
    fs::copy_file(entry.path(), fs::path(out_dir) / name, fs::copy_options::overwrite_existing, ec);
    if (ec) return error(entry.path().string() + ": cannot copy: " + ec.message());
  }
  ARB_TRY(write_safetensors((fs::path(out_dir) / "model.safetensors").string(), tensors, {{"format", "pt"}}));
  return write_file_atomically((fs::path(out_dir) / "config.json").string(), config.dump(2) + "\n");
}

}  // namespace arbiter::train

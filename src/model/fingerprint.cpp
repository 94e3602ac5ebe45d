#include "model/fingerprint.h"

#include <algorithm>

#include "core/fnv1a.h"

namespace arbiter {

namespace {

constexpr size_t kEdgeBytes = 64 << 10;

void add_text(std::string& bytes, const std::string& text) {
  bytes += text;
  bytes.push_back('\n');
}

void add_tensor(std::string& bytes, const TensorView& t) {
  add_text(bytes, t.name + " " + dtype_name(t.dtype) + " " + t.shape_string() + " " + std::to_string(t.nbytes));
  if (t.data == nullptr) return;
  const char* data = static_cast<const char*>(t.data);
  const size_t head = std::min(t.nbytes, kEdgeBytes);
  bytes.append(data, head);
  if (t.nbytes > head) bytes.append(data + t.nbytes - std::min(t.nbytes - head, kEdgeBytes), std::min(t.nbytes - head, kEdgeBytes));
}

void add_floats(std::string& bytes, const std::vector<float>& values) {
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

}  // namespace

std::string model_fingerprint(const Model& model) {
  const ModelConfig& c = model.config;
  std::string bytes;
  add_text(bytes, std::string(architecture_name(c.arch)) + " " + std::to_string(c.vocab_size) + " " +
                      std::to_string(c.hidden_size) + " " + std::to_string(c.num_layers) + " " +
                      std::to_string(c.num_labels));
  add_tensor(bytes, model.token_embedding);
  if (!model.layers.empty()) {
    add_tensor(bytes, model.layers.front().wq);
    add_tensor(bytes, model.layers.back().w_down);
  }
  add_tensor(bytes, model.lm_head);
  add_floats(bytes, model.final_norm);
  add_floats(bytes, model.score_head);
  add_floats(bytes, model.score_bias);
  add_floats(bytes, model.score_hidden);
  return fnv1a64_hex(bytes);
}

}  // namespace arbiter

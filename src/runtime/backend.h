// The Backend interface: one batched prefill over many sequences of different lengths, packed without
// padding, returning only what was asked for at the requested read positions. Everything above this
// interface (scorers, judges, the server) is the same for CPU and GPU.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace arbiter {

struct SequenceInput {
  std::vector<int32_t> tokens;
  // Positions (0-based, ascending) whose residual-stream rows are read. Empty means the last token.
  std::vector<int32_t> read_positions;
};

enum class LogitsMode { kNone, kFull, kSelected };

// How intermediate layers are read through the unembedding (the "logit lens").
enum class Lens {
  kRaw,     // LM head applied to the residual stream as it is; the last layer final-normed (LAGER's code)
  kNormed,  // the final norm applied to every layer first
};

struct ForwardOptions {
  // Residual stream at the read positions: index 0 is the input of the first layer, index l the output
  // of layer l (before the final norm). Empty = capture nothing.
  std::vector<int32_t> capture_layers;
  bool final_norm = false;              // final-normed rows at the read positions
  LogitsMode logits = LogitsMode::kNone;
  std::vector<int32_t> logit_token_ids;  // kSelected: these rows of the LM head, in this order
  bool score_head = false;              // classifiers: the head's output at the read positions
  // For every captured layer, the logits of logit_token_ids read through `lens` (no final softcap).
  bool layer_logits = false;
  Lens lens = Lens::kRaw;
};

struct SequenceOutput {
  int64_t num_reads = 0;
  std::vector<float> layer_states;  // [capture_layers.size(), num_reads, d_model]
  std::vector<float> final_norm;    // [num_reads, d_model]
  std::vector<float> logits;        // [num_reads, vocab] or [num_reads, logit_token_ids.size()]
  std::vector<float> scores;        // [num_reads, num_labels]
  std::vector<float> layer_logits;  // [capture_layers.size(), num_reads, logit_token_ids.size()]
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual const Model& model() const = 0;
  // Validates every token id and read position first (errors name the sequence and position).
  virtual Result<std::vector<SequenceOutput>> forward(const std::vector<SequenceInput>& sequences,
                                                      const ForwardOptions& options) = 0;
};

std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Model> model);

}  // namespace arbiter

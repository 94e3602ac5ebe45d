// The Backend interface: one batched prefill over many sequences of different lengths, packed without
// padding, returning only what was asked for at the requested read positions. Everything above this
// interface (scorers, judges, the server) is the same for CPU and GPU.
#pragma once

#include <cstdint>
#include <functional>
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
  // What --max-length truncation cut from the formatted row before it came here: reported in the row's
  // output line, never read by a backend.
  int64_t tokens_cut = 0;
  bool response_end_cut = false;  // the response's own last tokens among them
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

// Greedy decoding (a judge that lets the model write before it scores). At every step the caller sees
// what `read` asks for at the position that predicted the new token, and may end the sequence there.
enum class GenerationEnd {
  kAccepted,     // the caller's `accept` ended it
  kStopToken,    // it wrote a stop token (end of turn / end of text)
  kMaxTokens,    // it wrote max_new_tokens tokens
  kContextFull,  // the model's context length was reached
};
const char* generation_end_name(GenerationEnd end);

struct SequenceOutput {
  int64_t num_reads = 0;
  std::vector<float> layer_states;  // [capture_layers.size(), num_reads, d_model]
  std::vector<float> final_norm;    // [num_reads, d_model]
  std::vector<float> logits;        // [num_reads, vocab] or [num_reads, logit_token_ids.size()]
  std::vector<float> scores;        // [num_reads, num_labels]
  std::vector<float> layer_logits;  // [capture_layers.size(), num_reads, logit_token_ids.size()]
  // Only where a caller decoded before reading (a judge that lets the model write): the tokens written,
  // the one predicted at the read position last, and how the writing ended.
  std::vector<int32_t> generated;
  GenerationEnd generation_end = GenerationEnd::kAccepted;
};

// Called after each new token of sequence `sequence`: `written` ends with the new token, `read` holds the
// reads at the position that predicted it. Returning true ends the sequence with this token.
using AcceptToken = std::function<bool(size_t sequence, const std::vector<int32_t>& written, const SequenceOutput& read)>;

struct GenerateOptions {
  int64_t max_new_tokens = 256;
  std::vector<int32_t> stop_token_ids;  // a sequence ends after writing one of these
  // What is read at each predicting position; `logits` may be kNone or kSelected (the argmax over the
  // whole vocabulary is computed regardless), read positions of the prompts are ignored.
  ForwardOptions read;
  AcceptToken accept;  // may be empty
};

struct Generation {
  std::vector<int32_t> tokens;  // what was written, the token that ended the sequence last
  GenerationEnd end = GenerationEnd::kMaxTokens;
  int64_t read_position = -1;   // the position that predicted tokens.back(): prompt length + tokens.size() - 2
  SequenceOutput read;          // the reads there (one read)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual const Model& model() const = 0;
  // Validates every token id and read position first (errors name the sequence and position).
  virtual Result<std::vector<SequenceOutput>> forward(const std::vector<SequenceInput>& sequences,
                                                      const ForwardOptions& options) = 0;
  // Whether forward() computes the prefixes sequences share once (runtime/shared_prefix.h), and keeps
  // keys and values for later calls whose sequences begin alike: callers then keep such sequences in one
  // call and count a batch by what it computes.
  virtual bool shares_prefixes() const { return false; }
  // Tokens per forward pass when the caller leaves it to the backend: enough to keep its arithmetic busy
  // (a GPU's GEMMs want many more rows than a CPU's) without holding more activations than it must.
  virtual int64_t preferred_batch_tokens() const { return 4096; }
  // Tokens run through the layers so far in prefills (decoding steps not counted), every call together,
  // where the backend counts them (0 where not): what sharing prefixes, within a call and across calls,
  // leaves to compute.
  virtual int64_t tokens_computed() const { return 0; }
  // Bytes of keys and values kept now for later calls (0 where a backend keeps none).
  virtual size_t kept_prefix_bytes() const { return 0; }
  // How many of the sequence's first tokens the next forward() would take from what it keeps, not compute
  // (0 where it keeps none): what a caller sizing a batch by computed tokens need not count.
  virtual int64_t kept_prefix_tokens(const SequenceInput& sequence) const { return 0; }
  // Greedy decoding of every prompt. The default re-runs the whole prefix at every step (no KV cache):
  // correct for any backend, and the reference a cached implementation must reproduce bit for bit.
  virtual Result<std::vector<Generation>> generate(const std::vector<SequenceInput>& prompts,
                                                   const GenerateOptions& options);
};

std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Model> model);

}  // namespace arbiter

#include "runtime/packed_batch.h"

#include <string>

namespace arbiter {

Result<PackedBatch> pack_batch(const std::vector<SequenceInput>& sequences, const ModelConfig& config) {
  PackedBatch b;
  b.offsets.push_back(0);
  b.read_offsets.push_back(0);
  for (size_t s = 0; s < sequences.size(); ++s) {
    const SequenceInput& seq = sequences[s];
    const int64_t len = int64_t(seq.tokens.size());
    if (len == 0) return error("sequence " + std::to_string(s) + " is empty");
    for (int64_t i = 0; i < len; ++i) {
      const int32_t t = seq.tokens[size_t(i)];
      if (t < 0 || t >= config.vocab_size)
        return error("sequence " + std::to_string(s) + ", position " + std::to_string(i) + ": token id " +
                     std::to_string(t) + " is outside the vocabulary [0, " + std::to_string(config.vocab_size) + ")");
      b.tokens.push_back(t);
      b.positions.push_back(int32_t(i));
    }
    const int64_t base = b.offsets.back();
    if (seq.read_positions.empty()) {
      b.read_rows.push_back(base + len - 1);
    } else {
      int64_t previous = -1;
      for (int32_t p : seq.read_positions) {
        if (p < 0 || p >= len || p <= previous)
          return error("sequence " + std::to_string(s) + ": read position " + std::to_string(p) +
                       " is out of range or not ascending (length " + std::to_string(len) + ")");
        b.read_rows.push_back(base + p);
        previous = p;
      }
    }
    b.offsets.push_back(base + len);
    b.past.push_back(0);
    b.read_offsets.push_back(int64_t(b.read_rows.size()));
  }
  return b;
}

PackedBatch pack_segments(const std::vector<SequenceSegment>& segments) {
  PackedBatch b;
  b.offsets.push_back(0);
  b.read_offsets.push_back(0);
  for (const SequenceSegment& segment : segments) {
    const SequenceInput& seq = *segment.sequence;
    const int64_t base = b.offsets.back();
    for (int64_t i = segment.begin; i < segment.end; ++i) {
      b.tokens.push_back(seq.tokens[size_t(i)]);
      b.positions.push_back(int32_t(i));
    }
    if (segment.read) {
      if (seq.read_positions.empty()) {
        b.read_rows.push_back(base + segment.end - 1 - segment.begin);
      } else {
        for (int32_t p : seq.read_positions) b.read_rows.push_back(base + p - segment.begin);
      }
    }
    b.offsets.push_back(base + segment.end - segment.begin);
    b.past.push_back(segment.begin);
    b.read_offsets.push_back(int64_t(b.read_rows.size()));
  }
  return b;
}

PackedBatch pack_decode_step(const std::vector<int32_t>& tokens, const std::vector<int64_t>& past) {
  PackedBatch b;
  b.offsets.push_back(0);
  b.read_offsets.push_back(0);
  for (size_t s = 0; s < tokens.size(); ++s) {
    b.tokens.push_back(tokens[s]);
    b.positions.push_back(int32_t(past[s]));
    b.offsets.push_back(int64_t(s + 1));
    b.past.push_back(past[s]);
    b.read_rows.push_back(int64_t(s));
    b.read_offsets.push_back(int64_t(s + 1));
  }
  return b;
}

Status check_forward_options(const ForwardOptions& options, const ModelConfig& c) {
  for (int32_t layer : options.capture_layers)
    if (layer < 0 || layer > c.num_layers)
      return error("capture layer " + std::to_string(layer) + " is outside 0.." + std::to_string(c.num_layers));
  if (options.score_head && !c.is_classifier()) return error("the model has no classification head");
  if (options.layer_logits && (options.capture_layers.empty() || options.logit_token_ids.empty()))
    return error("per-layer logits need captured layers and logit token ids");
  for (int32_t id : options.logit_token_ids)
    if (id < 0 || id >= c.vocab_size) return error("logit token id " + std::to_string(id) + " is outside the vocabulary");
  return Status::ok();
}

}  // namespace arbiter

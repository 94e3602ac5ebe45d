// A batch of sequences packed without padding into one [N] token stream, and the checks every backend
// makes before a forward pass, so that the CPU and CUDA backends reject the same inputs with the same words.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "runtime/backend.h"

namespace arbiter {

// Where each sequence lies in the packed batch, and which packed rows are read.
struct PackedBatch {
  std::vector<int32_t> tokens;       // [N]
  std::vector<int32_t> positions;    // [N] position within its sequence
  std::vector<int64_t> offsets;      // [S + 1]
  std::vector<int64_t> past;         // [S] positions already in the sequence's KV cache (0 without one)
  std::vector<int64_t> read_rows;    // packed row index of every read, sequence by sequence
  std::vector<int64_t> read_offsets; // [S + 1] into read_rows
};

// Validates every token id and read position (errors name the sequence and position).
Result<PackedBatch> pack_batch(const std::vector<SequenceInput>& sequences, const ModelConfig& config);

// Part of a sequence: its tokens [begin, end) at their own positions, after `begin` positions a cache
// holds. With `read`, its read positions (all at or after begin) are read; otherwise nothing is.
struct SequenceSegment {
  const SequenceInput* sequence = nullptr;
  int64_t begin = 0, end = 0;
  bool read = false;
};

// Segments of sequences that pack_batch has validated.
PackedBatch pack_segments(const std::vector<SequenceSegment>& segments);

// One decoding step: the newest token of each sequence, after `past[s]` cached positions; each is read.
PackedBatch pack_decode_step(const std::vector<int32_t>& tokens, const std::vector<int64_t>& past);

// Capture layers in range, a head when scores are asked for, lens inputs present, logit ids in the vocabulary.
Status check_forward_options(const ForwardOptions& options, const ModelConfig& config);

}  // namespace arbiter

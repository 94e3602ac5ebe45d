// How large a token id a tokenizer file may give. The id tables are sized by the largest id, so one id
// far past the others (a damaged or hostile file: 2^24 costs 1.5 GB) would be allocated, not read. Real
// files number their tokens densely, with a few gaps at most (reserved or removed tokens: cl100k's added
// tokens leave about 20), so ids up to the file's count of tokens plus 65536 are accepted and others
// refused, naming the id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace arbiter {

inline constexpr int64_t kTokenIdGapAllowance = 65536;

// entries: how many tokens the file lists (vocabulary entries and added tokens).
inline int64_t max_token_id(size_t entries) { return int64_t(entries) + kTokenIdGapAllowance - 1; }

// "(not 0 to N: the file lists M tokens)", for an error naming an id out of that range.
inline std::string token_id_range(size_t entries) {
  return "(not 0 to " + std::to_string(max_token_id(entries)) + ": the file lists " + std::to_string(entries) +
         " tokens)";
}

}  // namespace arbiter

// A fingerprint of a dataset row as read (its fields and its id), not of its place in the file: what a
// resumed run compares to tell that the rows an output holds are the rows its input has now.
#pragma once

#include <string>

#include "core/fnv1a.h"
#include "data/example.h"

namespace arbiter::data {

// 16 hex digits (FNV-1a of the row's JSON, keys in order, and its id).
inline std::string row_digest(const nlohmann::json& row, const std::string& id) { return fnv1a64_hex(row.dump() + '\n' + id); }
inline std::string row_digest(const Example& example) { return row_digest(example.raw, example.id); }

// A fingerprint of a row's prompt (the turns before its responses: roles and texts), which the rows
// answering one prompt share (HelpSteer2 rates two responses to each prompt, a row each). A row without
// prompt turns (token ids) is one of its own: its row digest's.
inline int64_t prompt_hash(const Example& example) {
  if (example.prompt_turns.empty()) return static_cast<int64_t>(fnv1a64(row_digest(example)));
  std::string bytes;
  for (const Turn& turn : example.prompt_turns) {
    bytes += turn.role;
    bytes += '\x1f';
    bytes += turn.content;
    bytes += '\x1e';
  }
  return static_cast<int64_t>(fnv1a64(bytes));
}

}  // namespace arbiter::data

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

}  // namespace arbiter::data

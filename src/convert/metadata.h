// GGUF metadata as an ordered list of keys, built up by the conversion steps.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "io/gguf.h"

namespace arbiter {

using GgufMetadata = std::vector<std::pair<std::string, GgufValue>>;

// Replaces the value of an existing key in place, or appends the key.
void set_metadata(GgufMetadata& metadata, const std::string& key, GgufValue value);
const GgufValue* find_metadata(const GgufMetadata& metadata, const std::string& key);

}  // namespace arbiter

#include "convert/metadata.h"

namespace arbiter {

void set_metadata(GgufMetadata& metadata, const std::string& key, GgufValue value) {
  for (auto& [k, v] : metadata) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata.emplace_back(key, std::move(value));
}

const GgufValue* find_metadata(const GgufMetadata& metadata, const std::string& key) {
  for (const auto& [k, v] : metadata)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace arbiter

#include "text/normalize_charsmap.h"

#include <cstring>

#include "text/unicode.h"

namespace arbiter {

namespace {

// darts-clone unit fields.
inline bool unit_has_leaf(uint32_t unit) { return (unit >> 8) & 1; }
inline uint32_t unit_value(uint32_t unit) { return unit & 0x7FFFFFFFu; }
inline uint32_t unit_label(uint32_t unit) { return unit & (0x80000000u | 0xFFu); }
inline uint32_t unit_offset(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

}  // namespace

Result<std::shared_ptr<const PrecompiledCharsmap>> PrecompiledCharsmap::parse(std::string_view blob) {
  if (blob.size() < 4) return Status::error("precompiled_charsmap: shorter than its 4-byte header");
  uint32_t trie_bytes = 0;
  std::memcpy(&trie_bytes, blob.data(), 4);
  if (trie_bytes % 4 != 0 || trie_bytes == 0 || trie_bytes > blob.size() - 4) {
    return Status::error("precompiled_charsmap: trie size " + std::to_string(trie_bytes) +
                         " does not fit the " + std::to_string(blob.size()) + "-byte blob");
  }
  auto map = std::make_shared<PrecompiledCharsmap>();
  map->units_.resize(trie_bytes / 4);
  std::memcpy(map->units_.data(), blob.data() + 4, trie_bytes);
  map->replacements_.assign(blob.substr(4 + trie_bytes));
  return std::shared_ptr<const PrecompiledCharsmap>(std::move(map));
}

size_t PrecompiledCharsmap::longest_match(std::string_view text, std::string_view* replacement) const {
  size_t n_units = units_.size();
  size_t node = unit_offset(units_[0]);
  size_t best_len = 0;
  uint32_t best_value = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    uint8_t byte = static_cast<uint8_t>(text[i]);
    if (byte == 0) break;
    node ^= byte;
    if (node >= n_units) break;
    uint32_t unit = units_[node];
    if (unit_label(unit) != byte) break;
    node ^= unit_offset(unit);
    if (node >= n_units) break;
    if (unit_has_leaf(unit)) {
      best_len = i + 1;
      best_value = unit_value(units_[node]);
    }
  }
  if (best_len == 0 || best_value >= replacements_.size()) return 0;
  const char* start = replacements_.data() + best_value;
  *replacement = std::string_view(start, strnlen(start, replacements_.size() - best_value));
  return best_len;
}

std::string PrecompiledCharsmap::normalize(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    std::string_view replacement;
    size_t matched = longest_match(text, &replacement);
    if (matched > 0) {
      out.append(replacement);
      text.remove_prefix(matched);
      continue;
    }
    size_t len = std::min(utf8_char_len(static_cast<uint8_t>(text[0])), text.size());
    out.append(text.substr(0, len));
    text.remove_prefix(len);
  }
  return out;
}

}  // namespace arbiter

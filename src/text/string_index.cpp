#include "text/string_index.h"

#include <functional>

namespace arbiter {

StringIndex::StringIndex(const std::vector<std::string>& strings) : strings_(&strings) {
  // At most 70% full, so a probe sequence stays short.
  size_t slots = 16;
  while (slots * 7 < strings.size() * 10) slots *= 2;
  slots_.assign(slots, Slot{0, -1});
  mask_ = slots - 1;
  for (size_t id = 0; id < strings.size(); ++id) {
    const std::string& s = strings[id];
    if (s.empty()) continue;
    const uint64_t h = std::hash<std::string_view>{}(s);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    uint64_t slot = h & mask_;
    for (;; slot = (slot + 1) & mask_) {
      const Slot& at = slots_[slot];
      if (at.id < 0) break;
      if (at.hash == tag && strings[at.id] == s) break;  // a repeat: the first stays
    }
    if (slots_[slot].id < 0) slots_[slot] = Slot{tag, static_cast<int32_t>(id)};
  }
}

std::optional<int32_t> StringIndex::find(std::string_view s) const {
  if (slots_.empty()) return std::nullopt;
  const uint64_t h = std::hash<std::string_view>{}(s);
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  for (uint64_t slot = h & mask_;; slot = (slot + 1) & mask_) {
    const Slot& at = slots_[slot];
    if (at.id < 0) return std::nullopt;
    if (at.hash == tag && (*strings_)[at.id] == s) return at.id;
  }
}

}  // namespace arbiter

// StringIndex: string -> id over a vector of strings its owner keeps (the strings are not copied), by open
// addressing. A vocabulary's lookups (every character of every word while encoding, three per merge rule while
// loading) each cost a pointer chase to a node in std::unordered_map; here a lookup reads one slot, mostly, and
// the string it names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arbiter {

class StringIndex {
 public:
  StringIndex() = default;
  // Indexes strings[i] -> i for every non-empty string; of equal strings the first is kept. `strings` must
  // outlive the index and not change while it is used.
  explicit StringIndex(const std::vector<std::string>& strings);

  std::optional<int32_t> find(std::string_view s) const;

 private:
  struct Slot {
    uint32_t hash;  // the high half of the string's hash: most mismatches are settled without the string
    int32_t id;     // -1: empty
  };
  const std::vector<std::string>* strings_ = nullptr;
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
};

}  // namespace arbiter

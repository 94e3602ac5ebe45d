// The names llama.cpp's gguf-split gives the files of a split model: PREFIX-00001-of-00003.gguf, ...
// (1-based, five digits at least). The GGUF reader finds a model's later files by them, and `arbiter pull`
// fetches them beside the first.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace arbiter {

struct GgufSplitName {
  std::string prefix;  // everything before "-00001-of-00003.gguf"
  int64_t index = 0;   // from 0
  int64_t count = 0;
};

// The name of file `index` (from 0) of `count`.
inline std::string gguf_split_name(const std::string& prefix, int64_t index, int64_t count) {
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, "-%05lld-of-%05lld.gguf", static_cast<long long>(index + 1),
                static_cast<long long>(count));
  return prefix + suffix;
}

// The parts of a split file's name (or path, or URL ending in one); nullopt for any other name.
inline std::optional<GgufSplitName> parse_gguf_split_name(const std::string& name) {
  static const std::string kExtension = ".gguf";
  if (name.size() <= kExtension.size() || name.compare(name.size() - kExtension.size(), kExtension.size(), kExtension) != 0)
    return std::nullopt;
  const size_t end = name.size() - kExtension.size();
  // Reads the digits ending at `stop` (exclusive), at least five; returns where they start, or npos.
  auto digits_before = [&](size_t stop, int64_t& value) -> size_t {
    size_t start = stop;
    while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9') --start;
    if (stop - start < 5 || stop - start > 9) return std::string::npos;
    value = std::stoll(name.substr(start, stop - start));
    return start;
  };
  int64_t count = 0, number = 0;
  const size_t count_start = digits_before(end, count);
  if (count_start == std::string::npos || count_start < 4 || name.compare(count_start - 4, 4, "-of-") != 0)
    return std::nullopt;
  const size_t number_start = digits_before(count_start - 4, number);
  if (number_start == std::string::npos || number_start < 1 || name[number_start - 1] != '-') return std::nullopt;
  if (count < 1 || number < 1 || number > count) return std::nullopt;
  return GgufSplitName{name.substr(0, number_start - 1), number - 1, count};
}

}  // namespace arbiter

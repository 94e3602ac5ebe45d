// UTF-8 validation, shared by everything that takes text from outside (datasets, requests, tokenizers).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace arbiter {

// Byte offset of the first byte that does not start a well-formed UTF-8 sequence (overlongs, surrogates
// and code points above U+10FFFF count as ill-formed), or nullopt when the whole text is valid.
std::optional<size_t> utf8_first_invalid(std::string_view text);

}  // namespace arbiter

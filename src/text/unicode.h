// UTF-8 helpers and the GPT-2 byte-to-unicode table that byte-level BPE vocabularies are written in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/utf8.h"  // utf8_first_invalid

namespace arbiter {

// Length of the UTF-8 sequence whose lead byte is `lead` (1 for a stray continuation byte, so that a
// loop over characters always advances).
inline size_t utf8_char_len(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

void utf8_append(std::string& out, uint32_t code_point);

// Invalid sequences replaced by U+FFFD, one per maximal ill-formed subpart (as Rust's from_utf8_lossy).
std::string utf8_lossy(std::string_view bytes);

// GPT-2's reversible map from the 256 byte values to printable code points: printable Latin-1 bytes map
// to themselves, the rest to U+0100.. in byte order. Byte-level vocabularies spell every token this way.
const std::string& byte_to_unicode(uint8_t byte);             // the UTF-8 spelling of one byte
std::optional<std::string> unicode_to_bytes(std::string_view token);  // nullopt: a char outside the map

}  // namespace arbiter

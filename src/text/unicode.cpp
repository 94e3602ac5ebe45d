#include "text/unicode.h"

#include <array>
#include <unordered_map>

namespace arbiter {

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    auto bad = utf8_first_invalid(bytes);
    if (!bad) { out.append(bytes); break; }
    out.append(bytes.substr(0, *bad));
    // Skip the maximal prefix of a would-be sequence: the lead byte plus continuation bytes that fit it.
    const auto* s = reinterpret_cast<const uint8_t*>(bytes.data()) + *bad;
    size_t rest = bytes.size() - *bad;
    size_t want = utf8_char_len(s[0]);
    size_t skip = 1;
    if (want > 1) {
      uint32_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte (Unicode table 3-7)
      if (s[0] == 0xE0) lo = 0xA0;
      if (s[0] == 0xED) hi = 0x9F;
      if (s[0] == 0xF0) lo = 0x90;
      if (s[0] == 0xF4) hi = 0x8F;
      if (s[0] < 0xC2 || s[0] > 0xF4) want = 1;
      if (want > 1 && rest > 1 && s[1] >= lo && s[1] <= hi) {
        skip = 2;
        while (skip < want && skip < rest && (s[skip] & 0xC0) == 0x80) ++skip;
      }
    }
    out.append("\xEF\xBF\xBD");
    bytes.remove_prefix(*bad + skip);
  }
  return out;
}

namespace {

struct ByteTables {
  std::array<std::string, 256> spelling;
  std::unordered_map<uint32_t, uint8_t> from_code_point;

  ByteTables() {
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(next++);
      utf8_append(spelling[b], cp);
      from_code_point[cp] = static_cast<uint8_t>(b);
    }
  }
};

const ByteTables& byte_tables() {
  static const ByteTables tables;
  return tables;
}

uint32_t decode_one(const uint8_t* s, size_t len) {
  if (len == 1) return s[0];
  uint32_t cp = s[0] & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (s[k] & 0x3F);
  return cp;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t byte) { return byte_tables().spelling[byte]; }

std::optional<std::string> unicode_to_bytes(std::string_view token) {
  const auto& table = byte_tables().from_code_point;
  std::string out;
  out.reserve(token.size());
  const auto* s = reinterpret_cast<const uint8_t*>(token.data());
  for (size_t i = 0; i < token.size();) {
    size_t len = utf8_char_len(s[i]);
    if (i + len > token.size()) return std::nullopt;
    auto it = table.find(decode_one(s + i, len));
    if (it == table.end()) return std::nullopt;
    out += static_cast<char>(it->second);
    i += len;
  }
  return out;
}

}  // namespace arbiter

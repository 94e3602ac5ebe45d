#include "text/normalize.h"

#include <algorithm>

#include <unicode/bytestream.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

namespace arbiter {

namespace {

Result<std::string> icu_normalize(NormalizerKind kind, std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* norm = nullptr;
  switch (kind) {
    case NormalizerKind::kNFC: norm = icu::Normalizer2::getNFCInstance(status); break;
    case NormalizerKind::kNFD: norm = icu::Normalizer2::getNFDInstance(status); break;
    case NormalizerKind::kNFKC: norm = icu::Normalizer2::getNFKCInstance(status); break;
    default: norm = icu::Normalizer2::getNFKDInstance(status); break;
  }
  if (U_FAILURE(status)) return Status::error(std::string("ICU normalizer: ") + u_errorName(status));
  icu::StringPiece piece(text.data(), static_cast<int32_t>(text.size()));
  // Most text is already normalized; the quick check avoids a copy through ICU's sink.
  if (norm->isNormalizedUTF8(piece, status) && U_SUCCESS(status)) return std::string(text);
  status = U_ZERO_ERROR;
  std::string out;
  icu::StringByteSink<std::string> sink(&out);
  norm->normalizeUTF8(0, piece, sink, nullptr, status);
  if (U_FAILURE(status)) return Status::error(std::string("ICU normalization: ") + u_errorName(status));
  return out;
}

// The tokenizers library lowercases character by character (Rust's char::to_lowercase): the full mapping
// (U+0130 becomes "i\u0307") but no context, so a word-final capital sigma becomes σ, not ς. ICU's
// string lowercasing applies the final-sigma rule; one character alone never meets its context.
std::string lowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    UChar32 c = 0;
    U8_NEXT(reinterpret_cast<const uint8_t*>(text.data()), pos, text.size(), c);
    if (c >= 0 && c < 0x80) {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
      continue;
    }
    icu::UnicodeString one(c < 0 ? UChar32{0xFFFD} : c);
    one.toLower(icu::Locale::getRoot());
    one.toUTF8String(out);
  }
  return out;
}

// Unicode White_Space, as the tokenizers library's Strip trims (Rust's char::is_whitespace).
size_t white_space_length_at(std::string_view text, size_t pos) {
  size_t next = pos;
  UChar32 c = 0;
  U8_NEXT(reinterpret_cast<const uint8_t*>(text.data()), next, text.size(), c);
  return c >= 0 && u_isUWhiteSpace(c) ? next - pos : 0;
}

size_t white_space_length_before(std::string_view text, size_t end) {
  // Only the last few bytes are read: ICU's backward step takes 32-bit offsets.
  const size_t window = std::min<size_t>(end, 4);
  const auto* tail = reinterpret_cast<const uint8_t*>(text.data()) + (end - window);
  int32_t start = int32_t(window);
  UChar32 c = 0;
  U8_PREV(tail, 0, start, c);
  return c >= 0 && u_isUWhiteSpace(c) ? window - size_t(start) : 0;
}

std::string strip(std::string_view text, bool left, bool right) {
  while (left && !text.empty()) {
    const size_t len = white_space_length_at(text, 0);
    if (len == 0) break;
    text.remove_prefix(len);
  }
  while (right && !text.empty()) {
    const size_t len = white_space_length_before(text, text.size());
    if (len == 0) break;
    text.remove_suffix(len);
  }
  return std::string(text);
}

// SentencePiece's remove_extra_whitespaces: no leading or trailing spaces, runs of spaces become one.
std::string collapse_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

Result<std::string> replace_all(const Regex& pattern, const std::string& content, std::string_view text) {
  ARB_ASSIGN(auto matches, pattern.find_all(text));
  if (matches.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t last = 0;
  for (auto [b, e] : matches) {
    out.append(text.substr(last, b - last));
    out.append(content);
    last = e;
  }
  out.append(text.substr(last));
  return out;
}

}  // namespace

Result<std::string> normalize(const std::vector<NormalizerStep>& steps, std::string_view input, bool skip_prepend) {
  std::string text(input);
  for (const NormalizerStep& step : steps) {
    switch (step.kind) {
      case NormalizerKind::kNFC:
      case NormalizerKind::kNFD:
      case NormalizerKind::kNFKC:
      case NormalizerKind::kNFKD: {
        ARB_ASSIGN(text, icu_normalize(step.kind, text));
        break;
      }
      case NormalizerKind::kLowercase: text = lowercase(text); break;
      // HF prepends only to non-empty text, so an empty segment stays empty.
      case NormalizerKind::kPrepend: if (!text.empty() && !skip_prepend) text = step.content + text; break;
      case NormalizerKind::kReplace: {
        ARB_ASSIGN(text, replace_all(*step.pattern, step.content, text));
        break;
      }
      case NormalizerKind::kStrip: text = strip(text, step.strip_left, step.strip_right); break;
      case NormalizerKind::kCharsmap: text = step.charsmap->normalize(text); break;
      case NormalizerKind::kCollapseSpaces: text = collapse_spaces(text); break;
    }
  }
  return text;
}

}  // namespace arbiter

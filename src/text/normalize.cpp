#include "text/normalize.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unicode/locid.h>

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

std::string lowercase(std::string_view text) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), text.size()));
  u.toLower(icu::Locale::getRoot());
  std::string out;
  u.toUTF8String(out);
  return out;
}

bool is_white_space(std::string_view text, size_t pos, size_t* len) {
  // ASCII whitespace plus the common Unicode spaces; Strip is rare and only trims the ends.
  static const char* const kSpaces[] = {" ", "\t", "\n", "\r", "\v", "\f", "\xC2\xA0", "\xE3\x80\x80"};
  for (const char* s : kSpaces) {
    std::string_view sv(s);
    if (text.substr(pos, sv.size()) == sv) { *len = sv.size(); return true; }
  }
  return false;
}

std::string strip(std::string_view text, bool left, bool right) {
  size_t len = 0;
  while (left && !text.empty() && is_white_space(text, 0, &len)) text.remove_prefix(len);
  while (right && !text.empty()) {
    size_t start = text.size() - 1;
    while (start > 0 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
    if (!is_white_space(text, start, &len) || start + len != text.size()) break;
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

#include "text/jinja_strings.h"

#include <algorithm>

#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

namespace arbiter::jinja {

std::vector<uint32_t> utf8_decode(const std::string& s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (extra <= 0 || i + static_cast<size_t>(extra) >= s.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    uint32_t cp = c & (0x3Fu >> extra);
    for (int k = 1; k <= extra; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3Fu);
    out.push_back(cp);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

void utf8_append(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string utf8_encode(const std::vector<uint32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (uint32_t cp : cps) utf8_append(cp, &out);
  return out;
}

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool py_isspace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

std::vector<int64_t> slice_indices(int64_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                   std::optional<int64_t> step) {
  int64_t st = step.value_or(1);
  std::vector<int64_t> out;
  if (st == 0) return out;
  auto adjust = [&](std::optional<int64_t> v, int64_t def_pos, int64_t def_neg) {
    if (!v) return st > 0 ? def_pos : def_neg;
    int64_t x = *v;
    if (x < 0) {
      x += length;
      if (x < 0) x = st > 0 ? 0 : -1;
    } else if (x >= length) {
      x = st > 0 ? length : length - 1;
    }
    return x;
  };
  int64_t b = adjust(start, 0, length - 1);
  int64_t e = adjust(stop, length, -1);
  if (st > 0) {
    for (int64_t i = b; i < e; i += st) out.push_back(i);
  } else {
    for (int64_t i = b; i > e; i += st) out.push_back(i);
  }
  return out;
}

std::string py_strip(const std::string& s, const std::optional<std::string>& chars, bool left, bool right) {
  std::vector<uint32_t> cps = utf8_decode(s);
  std::vector<uint32_t> set;
  if (chars) set = utf8_decode(*chars);
  auto strip_it = [&](uint32_t cp) {
    return chars ? std::find(set.begin(), set.end(), cp) != set.end() : py_isspace(cp);
  };
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && strip_it(cps[b])) ++b;
  }
  if (right) {
    while (e > b && strip_it(cps[e - 1])) --e;
  }
  return utf8_encode(std::vector<uint32_t>(cps.begin() + static_cast<std::ptrdiff_t>(b), cps.begin() + static_cast<std::ptrdiff_t>(e)));
}

namespace {

std::string from_icu(const icu::UnicodeString& u) {
  std::string out;
  u.toUTF8String(out);
  return out;
}

}  // namespace

std::string py_upper(const std::string& s) {
  return from_icu(icu::UnicodeString::fromUTF8(s).toUpper(icu::Locale::getRoot()));
}

std::string py_lower(const std::string& s) {
  return from_icu(icu::UnicodeString::fromUTF8(s).toLower(icu::Locale::getRoot()));
}

std::string py_capitalize(const std::string& s) {
  std::vector<uint32_t> cps = utf8_decode(s);
  if (cps.empty()) return s;
  std::string first;
  utf8_append(cps[0], &first);
  icu::UnicodeString head = icu::UnicodeString::fromUTF8(first);
  head.toTitle(nullptr, icu::Locale::getRoot(), U_TITLECASE_NO_LOWERCASE | U_TITLECASE_NO_BREAK_ADJUSTMENT);
  std::string rest;
  for (size_t i = 1; i < cps.size(); ++i) utf8_append(cps[i], &rest);
  return from_icu(head) + py_lower(rest);
}

std::string py_title(const std::string& s) {
  // str.title(): a cased character after an uncased one starts a word.
  std::string out;
  bool previous_cased = false;
  for (uint32_t cp : utf8_decode(s)) {
    std::string ch;
    utf8_append(cp, &ch);
    bool cased = u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_CASED);
    if (cased && !previous_cased) {
      icu::UnicodeString u = icu::UnicodeString::fromUTF8(ch);
      u.toTitle(nullptr, icu::Locale::getRoot(), U_TITLECASE_NO_LOWERCASE | U_TITLECASE_NO_BREAK_ADJUSTMENT);
      out += from_icu(u);
    } else if (cased) {
      out += py_lower(ch);
    } else {
      out += ch;
    }
    previous_cased = cased;
  }
  return out;
}

std::vector<std::string> py_split(const std::string& s, const std::optional<std::string>& sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (!sep) {
    std::vector<uint32_t> cps = utf8_decode(s);
    size_t i = 0;
    while (true) {
      while (i < cps.size() && py_isspace(cps[i])) ++i;
      if (i >= cps.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
        size_t e = cps.size();
        while (e > i && py_isspace(cps[e - 1])) --e;
        out.push_back(utf8_encode(std::vector<uint32_t>(cps.begin() + static_cast<std::ptrdiff_t>(i), cps.begin() + static_cast<std::ptrdiff_t>(e))));
        break;
      }
      size_t j = i;
      while (j < cps.size() && !py_isspace(cps[j])) ++j;
      out.push_back(utf8_encode(std::vector<uint32_t>(cps.begin() + static_cast<std::ptrdiff_t>(i), cps.begin() + static_cast<std::ptrdiff_t>(j))));
      i = j;
    }
    return out;
  }
  size_t start = 0;
  while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
    size_t hit = s.find(*sep, start);
    if (hit == std::string::npos) break;
    out.push_back(s.substr(start, hit - start));
    start = hit + sep->size();
  }
  out.push_back(s.substr(start));
  return out;
}

std::vector<std::string> py_rsplit(const std::string& s, const std::optional<std::string>& sep, int64_t maxsplit) {
  if (maxsplit < 0) return py_split(s, sep, maxsplit);
  std::vector<std::string> out;
  if (!sep) {
    std::vector<uint32_t> cps = utf8_decode(s);
    int64_t i = static_cast<int64_t>(cps.size());
    while (true) {
      while (i > 0 && py_isspace(cps[static_cast<size_t>(i - 1)])) --i;
      if (i <= 0) break;
      if (static_cast<int64_t>(out.size()) >= maxsplit) {
        int64_t b = 0;
        while (b < i && py_isspace(cps[static_cast<size_t>(b)])) ++b;
        out.push_back(utf8_encode(std::vector<uint32_t>(cps.begin() + b, cps.begin() + i)));
        break;
      }
      int64_t j = i;
      while (j > 0 && !py_isspace(cps[static_cast<size_t>(j - 1)])) --j;
      out.push_back(utf8_encode(std::vector<uint32_t>(cps.begin() + j, cps.begin() + i)));
      i = j;
    }
    std::reverse(out.begin(), out.end());
    return out;
  }
  size_t end = s.size();
  while (static_cast<int64_t>(out.size()) < maxsplit) {
    if (end < sep->size()) break;
    size_t hit = s.rfind(*sep, end - sep->size());
    if (hit == std::string::npos) break;
    out.push_back(s.substr(hit + sep->size(), end - hit - sep->size()));
    end = hit;
  }
  out.push_back(s.substr(0, end));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> py_splitlines(const std::string& s, bool keepends) {
  std::vector<std::string> out;
  std::vector<uint32_t> cps = utf8_decode(s);
  std::vector<uint32_t> line;
  for (size_t i = 0; i < cps.size(); ++i) {
    uint32_t c = cps[i];
    bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
               c == 0x2028 || c == 0x2029;
    if (!brk) {
      line.push_back(c);
      continue;
    }
    std::vector<uint32_t> ending{c};
    if (c == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') {
      ending.push_back('\n');
      ++i;
    }
    if (keepends) line.insert(line.end(), ending.begin(), ending.end());
    out.push_back(utf8_encode(line));
    line.clear();
  }
  if (!line.empty()) out.push_back(utf8_encode(line));
  return out;
}

std::string py_replace(const std::string& s, const std::string& old, const std::string& repl, int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python inserts the replacement before every code point and at the end.
    std::vector<uint32_t> cps = utf8_decode(s);
    int64_t done = 0;
    for (uint32_t cp : cps) {
      if (count < 0 || done < count) {
        out += repl;
        ++done;
      }
      utf8_append(cp, &out);
    }
    if (count < 0 || done < count) out += repl;
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t hit = s.find(old, start);
    if (hit == std::string::npos) break;
    out.append(s, start, hit - start);
    out += repl;
    start = hit + old.size();
    ++done;
  }
  out.append(s, start, std::string::npos);
  return out;
}

int64_t py_count(const std::string& s, const std::string& sub) {
  if (sub.empty()) return static_cast<int64_t>(utf8_length(s)) + 1;
  int64_t n = 0;
  for (size_t hit = s.find(sub); hit != std::string::npos; hit = s.find(sub, hit + sub.size())) ++n;
  return n;
}

int64_t py_find(const std::string& s, const std::string& sub) {
  size_t hit = s.find(sub);
  if (hit == std::string::npos) return -1;
  return static_cast<int64_t>(utf8_length(s.substr(0, hit)));
}

}  // namespace arbiter::jinja

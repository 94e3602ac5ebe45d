#include "text/jinja_lexer.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <optional>

namespace arbiter::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string rstrip(const std::string& s) {
  size_t end = s.size();
  while (end > 0 && is_space(s[end - 1])) --end;
  return s.substr(0, end);
}

// Jinja2 normalizes \r\n and \r to \n and, without keep_trailing_newline, drops one final newline.
std::string normalize_source(const std::string& source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void append_utf8(uint32_t cp, std::string* out) {
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

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python's "unicode-escape" decoding, which Jinja applies to string literals.
bool unescape(const std::string& raw, std::string* out, std::string* error) {
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\' || i + 1 >= raw.size()) {
      *out += c;
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case '\n': break;
      case '\\': *out += '\\'; break;
      case '\'': *out += '\''; break;
      case '"': *out += '"'; break;
      case 'a': *out += '\a'; break;
      case 'b': *out += '\b'; break;
      case 'f': *out += '\f'; break;
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      case 't': *out += '\t'; break;
      case 'v': *out += '\v'; break;
      case 'x':
      case 'u':
      case 'U': {
        size_t digits = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
        uint32_t cp = 0;
        for (size_t k = 0; k < digits; ++k) {
          int h = i + 1 + k < raw.size() ? hex_value(raw[i + 1 + k]) : -1;
          if (h < 0) {
            *error = std::string("truncated \\") + e + " escape in string literal";
            return false;
          }
          cp = cp * 16 + static_cast<uint32_t>(h);
        }
        i += digits;
        if (cp > 0x10FFFF) {
          *error = "illegal Unicode character in string literal";
          return false;
        }
        append_utf8(cp, out);
        break;
      }
      case 'N': *error = "\\N{...} escapes in string literals are not supported"; return false;
      default:
        if (e >= '0' && e <= '7') {
          uint32_t cp = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < raw.size() && raw[i + 1] >= '0' && raw[i + 1] <= '7'; ++k) {
            cp = cp * 8 + static_cast<uint32_t>(raw[++i] - '0');
          }
          append_utf8(cp, out);
        } else {
          *out += '\\';
          *out += e;
        }
    }
  }
  return true;
}

class Lexer {
 public:
  Lexer(std::string src, const LexOptions& opts) : src_(std::move(src)), opts_(opts) {}

  Result<std::vector<Token>> run() {
    size_t pos = 0;
    bool line_starting = true;
    while (pos < src_.size()) {
      size_t start = find_tag(pos);
      if (start == std::string::npos) {
        emit_text(src_.substr(pos));
        break;
      }
      char kind = src_[start + 1];
      size_t p = start + 2;
      char sign = 0;
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
      std::string text = src_.substr(pos, start - pos);
      bool is_raw = kind == '%' && raw_keyword_at(p, "raw");
      apply_strip(&text, sign, kind != '{', line_starting);
      emit_text(text);
      count_lines(pos, p);
      if (kind == '#') {
        ARB_ASSIGN(pos, lex_comment(p));
      } else if (is_raw) {
        ARB_ASSIGN(pos, lex_raw(p));
      } else {
        ARB_ASSIGN(pos, lex_tag(p, kind == '%'));
      }
      line_starting = pos > 0 && src_[pos - 1] == '\n';
    }
    tokens_.push_back({TokenType::End, "", line_});
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  // True when `word` follows at p (after spaces) as a whole word: {% raw %} / {% endraw %}.
  bool raw_keyword_at(size_t p, const std::string& word) const {
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, word.size(), word) != 0) return false;
    size_t after = p + word.size();
    return after < src_.size() && (is_space(src_[after]) || src_[after] == '-' || src_[after] == '%' || src_[after] == '+');
  }

  // "-" strips all whitespace before the tag; otherwise lstrip_blocks removes the spaces that
  // precede a block or comment tag on its own line (Jinja2's OptionalLStrip rule).
  void apply_strip(std::string* text, char sign, bool strippable_tag, bool line_starting) const {
    if (sign == '-') {
      *text = rstrip(*text);
      return;
    }
    if (sign == '+' || !opts_.lstrip_blocks || !strippable_tag) return;
    size_t nl = text->rfind('\n');
    size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting) return;
    if (l_pos == text->size()) return;
    for (size_t i = l_pos; i < text->size(); ++i) {
      if (!is_space((*text)[i])) return;
    }
    text->resize(l_pos);
  }

  void emit_text(const std::string& text) {
    if (text.empty()) return;
    tokens_.push_back({TokenType::Text, text, line_});
  }

  void count_lines(size_t from, size_t to) {
    for (size_t i = from; i < to && i < src_.size(); ++i) {
      if (src_[i] == '\n') ++line_;
    }
  }

  // After a block or comment end: "-" eats all following whitespace, plain ends eat one newline
  // when trim_blocks is on, "+" keeps everything.
  size_t after_block_end(size_t end_start, size_t end_len, char marker) {
    size_t after = end_start + end_len;
    if (marker == '-') {
      while (after < src_.size() && is_space(src_[after])) ++after;
    } else if (marker != '+' && opts_.trim_blocks && after < src_.size() && src_[after] == '\n') {
      ++after;
    }
    return after;
  }

  Result<size_t> lex_comment(size_t p) {
    size_t end = src_.find("#}", p);
    if (end == std::string::npos) return error("template line " + std::to_string(line_) + ": missing end of comment tag");
    char marker = end > p && (src_[end - 1] == '-' || src_[end - 1] == '+') ? src_[end - 1] : 0;
    size_t after = after_block_end(end, 2, marker);
    count_lines(p, after);
    return after;
  }

  Result<size_t> lex_raw(size_t p) {
    size_t close = src_.find("%}", p);
    if (close == std::string::npos) return error("template line " + std::to_string(line_) + ": unclosed raw tag");
    size_t content = close + 2;
    if (src_[close - 1] == '-') {
      while (content < src_.size() && is_space(src_[content])) ++content;
    }
    count_lines(p, content);
    bool content_line_starting = src_[content - 1] == '\n';
    for (size_t s = find_tag(content); s != std::string::npos; s = find_tag(s + 1)) {
      if (src_[s + 1] != '%') continue;
      size_t q = s + 2;
      char sign = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
      if (!raw_keyword_at(q, "endraw")) continue;
      size_t end = src_.find("%}", q);
      if (end == std::string::npos) break;
      std::string text = src_.substr(content, s - content);
      apply_strip(&text, sign, true, content_line_starting);
      emit_text(text);
      char marker = src_[end - 1] == '-' || src_[end - 1] == '+' ? src_[end - 1] : 0;
      size_t after = after_block_end(end, 2, marker);
      count_lines(content, after);
      return after;
    }
    return error("template line " + std::to_string(line_) + ": missing {% endraw %}");
  }

  Result<size_t> lex_tag(size_t p, bool block) {
    int open_line = line_;
    tokens_.push_back({block ? TokenType::BlockBegin : TokenType::VarBegin, "", line_});
    int depth = 0;
    while (true) {
      if (depth == 0) {
        if (block) {
          if (src_.compare(p, 3, "-%}") == 0 || src_.compare(p, 3, "+%}") == 0) {
            tokens_.push_back({TokenType::BlockEnd, "", line_});
            size_t after = after_block_end(p + 1, 2, src_[p]);
            count_lines(p, after);
            return after;
          }
          if (src_.compare(p, 2, "%}") == 0) {
            tokens_.push_back({TokenType::BlockEnd, "", line_});
            size_t after = after_block_end(p, 2, 0);
            count_lines(p, after);
            return after;
          }
        } else {
          if (src_.compare(p, 3, "-}}") == 0) {
            tokens_.push_back({TokenType::VarEnd, "", line_});
            size_t after = p + 3;
            while (after < src_.size() && is_space(src_[after])) ++after;
            count_lines(p, after);
            return after;
          }
          if (src_.compare(p, 2, "}}") == 0) {
            tokens_.push_back({TokenType::VarEnd, "", line_});
            return p + 2;
          }
        }
      }
      if (p >= src_.size()) {
        return error("template line " + std::to_string(open_line) + ": unexpected end of template, expected '" +
                     (block ? "%}" : "}}") + "'");
      }
      char c = src_[p];
      if (is_space(c)) {
        if (c == '\n') ++line_;
        ++p;
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c))) {
        p = lex_number(p);
        continue;
      }
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t s = p;
        while (p < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[p])) || src_[p] == '_')) ++p;
        tokens_.push_back({TokenType::Name, src_.substr(s, p - s), line_});
        continue;
      }
      if (c == '\'' || c == '"') {
        ARB_ASSIGN(p, lex_string(p));
        continue;
      }
      static const char* const two_char_ops[] = {"//", "**", "==", "!=", "<=", ">="};
      bool matched = false;
      for (const char* op : two_char_ops) {
        if (src_.compare(p, 2, op) == 0) {
          tokens_.push_back({TokenType::Op, op, line_});
          p += 2;
          matched = true;
          break;
        }
      }
      if (matched) continue;
      if (std::string("+-*/%~[](){}<>=.:|,;").find(c) != std::string::npos) {
        if (c == '(' || c == '[' || c == '{') ++depth;
        if (c == ')' || c == ']' || c == '}') {
          if (depth == 0) return error("template line " + std::to_string(line_) + ": unexpected '" + std::string(1, c) + "'");
          --depth;
        }
        tokens_.push_back({TokenType::Op, std::string(1, c), line_});
        ++p;
        continue;
      }
      return error("template line " + std::to_string(line_) + ": unexpected character '" + std::string(1, c) + "'");
    }
  }

  // 0x1F, 0o17, 0b101 (any case, `_` between digits), as Jinja2's integer_re reads them; the token carries
  // the value in decimal. None: not such a literal.
  std::optional<size_t> lex_prefixed_integer(size_t p) {
    if (src_[p] != '0' || p + 1 >= src_.size()) return std::nullopt;
    const char prefix = char(std::tolower(static_cast<unsigned char>(src_[p + 1])));
    const int base = prefix == 'x' ? 16 : prefix == 'o' ? 8 : prefix == 'b' ? 2 : 0;
    if (base == 0) return std::nullopt;
    auto digit_value = [&](char c) -> int {
      const int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                    : std::isalpha(static_cast<unsigned char>(c)) ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                                                                   : 99;
      return d < base ? d : -1;
    };
    size_t q = p + 2;
    unsigned __int128 value = 0;
    double approximate = 0.0;  // past 64 bits, what the parser makes of a long decimal literal: a float
    bool any = false, too_big = false;
    while (q < src_.size()) {  // (_?digit)+
      const size_t at = src_[q] == '_' ? q + 1 : q;
      if (at >= src_.size() || digit_value(src_[at]) < 0) break;
      if (!too_big) value = value * unsigned(base) + unsigned(digit_value(src_[at]));
      approximate = approximate * base + digit_value(src_[at]);
      too_big |= value > static_cast<unsigned __int128>(UINT64_MAX);
      any = true;
      q = at + 1;
    }
    if (!any) return std::nullopt;
    char text[32];
    if (too_big) {
      std::snprintf(text, sizeof(text), "%.17g", approximate);
    } else {
      std::snprintf(text, sizeof(text), "%llu", static_cast<unsigned long long>(value));
    }
    // A Float token for a value past 64 bits: the parser reads an Int token's digits as an integer.
    tokens_.push_back({too_big ? TokenType::Float : TokenType::Int, text, line_});
    return q;
  }

  size_t lex_number(size_t p) {
    if (const std::optional<size_t> end = lex_prefixed_integer(p)) return *end;
    size_t s = p;
    auto digits = [&](size_t q) {
      while (q < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[q])) ||
                                 (src_[q] == '_' && q + 1 < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q + 1]))))) {
        ++q;
      }
      return q;
    };
    p = digits(p);
    bool is_float = false;
    bool after_dot = s > 0 && src_[s - 1] == '.';
    if (!after_dot) {
      if (p + 1 < src_.size() && src_[p] == '.' && std::isdigit(static_cast<unsigned char>(src_[p + 1]))) {
        p = digits(p + 1);
        is_float = true;
      }
      if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
        size_t q = p + 1;
        if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
        if (q < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q]))) {
          p = digits(q);
          is_float = true;
        }
      }
    }
    std::string text;
    for (size_t i = s; i < p; ++i) {
      if (src_[i] != '_') text += src_[i];
    }
    tokens_.push_back({is_float ? TokenType::Float : TokenType::Int, text, line_});
    return p;
  }

  Result<size_t> lex_string(size_t p) {
    char quote = src_[p];
    int start_line = line_;
    size_t q = p + 1;
    while (q < src_.size() && src_[q] != quote) {
      if (src_[q] == '\\') ++q;
      ++q;
    }
    if (q >= src_.size()) return error("template line " + std::to_string(start_line) + ": unterminated string literal");
    std::string value, err;
    if (!unescape(src_.substr(p + 1, q - p - 1), &value, &err)) {
      return error("template line " + std::to_string(start_line) + ": " + err);
    }
    tokens_.push_back({TokenType::String, value, start_line});
    count_lines(p, q);
    return q + 1;
  }

  std::string src_;
  LexOptions opts_;
  std::vector<Token> tokens_;
  int line_ = 1;
};

}  // namespace

Result<std::vector<Token>> tokenize(const std::string& source, const LexOptions& options) {
  return Lexer(normalize_source(source, options.keep_trailing_newline), options).run();
}

}  // namespace arbiter::jinja

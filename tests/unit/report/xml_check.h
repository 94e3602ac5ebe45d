// A tiny XML well-formedness checker for the tests: every tag closes in order, attribute values are
// quoted and free of '<' and raw quotes, entity references are the five predefined ones or numeric,
// and there is one root element. Accepts an XML declaration and an HTML doctype before the root. Returns
// an empty string when well-formed, else what is wrong and the byte offset.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace arbiter::test {

inline bool xml_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' || c == '.';
}

// The text of a reference starting at text[i] == '&'; empty when it is not a valid one.
inline size_t xml_reference_length(std::string_view text, size_t i) {
  for (std::string_view entity : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#39;"})
    if (text.substr(i, entity.size()) == entity) return entity.size();
  if (text.substr(i, 2) == "&#") {
    size_t j = i + 2;
    const bool hex = j < text.size() && text[j] == 'x';
    if (hex) ++j;
    const size_t digits_start = j;
    while (j < text.size() && (hex ? std::isxdigit(static_cast<unsigned char>(text[j]))
                                   : std::isdigit(static_cast<unsigned char>(text[j]))))
      ++j;
    if (j > digits_start && j < text.size() && text[j] == ';') return j + 1 - i;
  }
  return 0;
}

inline std::string check_xml(std::string_view text) {
  std::vector<std::string> open;
  size_t roots = 0;
  size_t i = 0;
  const auto fail = [&](const std::string& what) { return what + " at byte " + std::to_string(i); };
  const auto skip_space = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  if (text.substr(0, 5) == "<?xml") {
    i = text.find("?>");
    if (i == std::string_view::npos) return "unterminated XML declaration";
    i += 2;
  }
  skip_space();
  if (text.substr(i, 9) == "<!DOCTYPE") {
    i = text.find('>', i);
    if (i == std::string_view::npos) return "unterminated doctype";
    ++i;
  }
  while (i < text.size()) {
    const char c = text[i];
    if (c == '&') {
      const size_t length = xml_reference_length(text, i);
      if (length == 0) return fail("bad entity reference");
      i += length;
      continue;
    }
    if (c != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(c))) return fail("text outside the root element");
      ++i;
      continue;
    }
    if (text.substr(i, 4) == "<!--") {
      const size_t end = text.find("-->", i);
      if (end == std::string_view::npos) return fail("unterminated comment");
      i = end + 3;
      continue;
    }
    const bool closing = text.substr(i, 2) == "</";
    i += closing ? 2 : 1;
    const size_t name_start = i;
    while (i < text.size() && xml_name_char(text[i])) ++i;
    const std::string name(text.substr(name_start, i - name_start));
    if (name.empty()) return fail("missing tag name");
    if (closing) {
      skip_space();
      if (i >= text.size() || text[i] != '>') return fail("bad closing tag </" + name);
      ++i;
      if (open.empty() || open.back() != name)
        return fail("</" + name + "> closes " + (open.empty() ? std::string("nothing") : "<" + open.back() + ">"));
      open.pop_back();
      continue;
    }
    while (true) {
      skip_space();
      if (i >= text.size()) return fail("unterminated tag <" + name);
      if (text[i] == '>' || text.substr(i, 2) == "/>") break;
      const size_t attr_start = i;
      while (i < text.size() && xml_name_char(text[i])) ++i;
      if (i == attr_start) return fail("bad attribute in <" + name);
      skip_space();
      if (i >= text.size() || text[i] != '=') return fail("attribute without value in <" + name);
      ++i;
      skip_space();
      if (i >= text.size() || (text[i] != '"' && text[i] != '\'')) return fail("unquoted attribute in <" + name);
      const char quote = text[i++];
      while (i < text.size() && text[i] != quote) {
        if (text[i] == '<') return fail("'<' in an attribute of <" + name);
        if (text[i] == '&') {
          const size_t length = xml_reference_length(text, i);
          if (length == 0) return fail("bad entity reference in an attribute of <" + name);
          i += length;
          continue;
        }
        ++i;
      }
      if (i >= text.size()) return fail("unterminated attribute in <" + name);
      ++i;
    }
    if (open.empty()) ++roots;
    if (roots > 1) return fail("second root element <" + name);
    if (text[i] == '/') {
      i += 2;
    } else {
      ++i;
      open.push_back(name);
    }
  }
  if (!open.empty()) return "unclosed <" + open.back() + "> at end";
  if (roots != 1) return "no root element";
  return "";
}

}  // namespace arbiter::test

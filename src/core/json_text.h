// Parsing JSON text from files and requests: nesting is bounded before the parse, since a document nested
// thousands deep (corrupt or hostile) makes the recursive walks over the parsed value (serializing it,
// checking its fields) overflow the stack; and a malformed document's error says where.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "core/status.h"

namespace arbiter {

// Far deeper than any dataset row, config or tokenizer file (conversations with content parts: about 6).
inline constexpr int kMaxJsonDepth = 512;

// Reads a JSON text's characters in order and tells which belong to a string literal (its quotes included,
// escapes followed): what the scans below skip.
class JsonStringTracker {
 public:
  bool holds(char c) {
    if (in_string_) {
      if (escaped_) escaped_ = false;
      else if (c == '\\') escaped_ = true;
      else if (c == '"') in_string_ = false;
      return true;
    }
    in_string_ = c == '"';
    return in_string_;
  }

 private:
  bool in_string_ = false, escaped_ = false;
};

// Whether `text` opens more than `max_depth` arrays and objects inside one another (strings skipped).
bool json_nested_deeper_than(std::string_view text, int max_depth);

// The text without the white space between its tokens (strings kept whole): a document indented otherwise,
// or saved again, reads the same. Linear, without parsing (tokenizer.json runs to tens of MB).
std::string json_without_layout(std::string_view text);

// `text` cut to about `max_bytes` for a message: its start and end kept, the middle named by its size
// ("... (2999800 bytes) ..."), cut at character boundaries. A parser quotes what it last read, which for a
// cut-off row is the whole row.
std::string clip_for_message(std::string_view text, size_t max_bytes = 400);

// The parsed document, or "malformed JSON: <the parser's message, with its byte position>" / "JSON nested
// deeper than N levels". `callback` is the parser's (it may keep values out of the tree as they are read).
template <class Json = nlohmann::json>
Result<Json> parse_json_text(std::string_view text, int max_depth = kMaxJsonDepth,
                             typename Json::parser_callback_t callback = nullptr) {
  if (json_nested_deeper_than(text, max_depth))
    return error("JSON nested deeper than " + std::to_string(max_depth) + " levels");
  try {
    return Json::parse(text.begin(), text.end(), std::move(callback));
  } catch (const std::exception& e) {
    // The parser reads a NUL byte as the end of its input ("unexpected end of input"): a NUL, which JSON
    // never holds, is what a damaged file shows, and says so.
    if (const size_t nul = text.find('\0'); nul != std::string_view::npos)
      return error("malformed JSON: a NUL byte at byte " + std::to_string(nul + 1) + " (a damaged file?)");
    // The byte as well as the line: a tokenizer.json is often one line of megabytes, and a file cut short
    // (an interrupted download) shows as an error at its end.
    std::string where;
    if (const auto* parse_error = dynamic_cast<const typename Json::parse_error*>(&e))
      where = " (byte " + std::to_string(parse_error->byte) + " of " + std::to_string(text.size()) + ")";
    return error("malformed JSON: " + clip_for_message(e.what()) + where);
  }
}

}  // namespace arbiter

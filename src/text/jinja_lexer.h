// Jinja lexer: splits a template into text and the tokens of {{ }}, {% %} tags, applying the
// whitespace rules of Jinja2 as transformers configures it (trim_blocks, lstrip_blocks, "-"/"+" markers,
// newline normalization, one trailing newline dropped).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter::jinja {

enum class TokenType { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, End };

struct Token {
  TokenType type;
  std::string text;  // Text: the literal text; String: the unescaped value; Name/Op/Int/Float: as written
  int line = 1;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

Result<std::vector<Token>> tokenize(const std::string& source, const LexOptions& options = {});

}  // namespace arbiter::jinja

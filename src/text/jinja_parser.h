// Jinja parser: tokens -> syntax tree, with Jinja2's operator precedence and statement set.
#pragma once

#include <vector>

#include "core/status.h"
#include "text/jinja_ast.h"
#include "text/jinja_lexer.h"

namespace arbiter::jinja {

Result<Body> parse(const std::vector<Token>& tokens);

}  // namespace arbiter::jinja

#include "text/jinja.h"

#include <new>

#include "text/jinja_interpreter.h"
#include "text/jinja_lexer.h"
#include "text/jinja_parser.h"

namespace arbiter::jinja {

struct Template::Parsed {
  Body body;
};

Result<Template> Template::parse(const std::string& source) {
  ARB_ASSIGN(std::vector<Token> tokens, tokenize(source));
  ARB_ASSIGN(Body body, jinja::parse(tokens));
  auto parsed = std::make_shared<Parsed>();
  parsed->body = std::move(body);
  Template t;
  t.parsed_ = std::move(parsed);
  return t;
}

namespace {

template <typename Json>
Result<std::string> render_impl(const Body& body, const Json& context, const RenderOptions& options) {
  if (!context.is_object() && !context.is_null()) return error("template context must be a JSON object");
  auto globals = std::make_shared<Scope>();
  add_global_functions(globals.get());
  if (context.is_object()) {
    for (auto it = context.begin(); it != context.end(); ++it) globals->vars[it.key()] = from_json(it.value());
  }
  Limits limits;
  limits.max_output_bytes = options.max_output_bytes;
  limits.max_steps = options.max_steps;
  limits.max_call_depth = options.max_call_depth;
  Interpreter interpreter(limits, options.now ? *options.now : std::time(nullptr));
  try {
    return interpreter.render(body, std::move(globals));
  } catch (const TemplateError& e) {
    if (e.line > 0) return error("template line " + std::to_string(e.line) + ": " + e.message);
    return error("template: " + e.message);
  } catch (const std::bad_alloc&) {
    return error("template: out of memory while rendering");
  }
}

}  // namespace

Result<std::string> Template::render(const nlohmann::ordered_json& context, const RenderOptions& options) const {
  return render_impl(parsed_->body, context, options);
}

Result<std::string> Template::render(const nlohmann::json& context, const RenderOptions& options) const {
  return render_impl(parsed_->body, context, options);
}

}  // namespace arbiter::jinja

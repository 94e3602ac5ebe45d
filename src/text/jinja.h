// A Jinja2 interpreter for chat templates: the subset real models' templates use, rendered byte for
// byte as transformers renders them (Jinja2 with trim_blocks, lstrip_blocks, loop controls, an
// immutable sandbox, raise_exception/strftime_now globals and a json.dumps-based tojson).
//
//   ARB_ASSIGN(auto tpl, jinja::Template::parse(source));      // parse once
//   ARB_ASSIGN(std::string text, tpl.render(context_json));    // render many times, thread-safe
//
// Errors (syntax, unsupported constructs, raise_exception, runaway templates) come back as a
// Status naming the template line.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace arbiter::jinja {

struct RenderOptions {
  std::optional<std::time_t> now;         // what strftime_now() sees; default: the current time
  size_t max_output_bytes = 16u << 20;    // output (and any one string built) may not exceed this (~4M tokens)
  uint64_t max_steps = 5'000'000;         // statements + expression nodes evaluated (~2 s)
  int max_call_depth = 64;                // nested macro calls
};

class Template {
 public:
  static Result<Template> parse(const std::string& source);

  // context: a JSON object whose members become template variables. ordered_json keeps the key
  // order of mappings (tojson and dict iteration follow it, as Python's dicts do).
  Result<std::string> render(const nlohmann::ordered_json& context, const RenderOptions& options = {}) const;
  Result<std::string> render(const nlohmann::json& context, const RenderOptions& options = {}) const;

 private:
  struct Parsed;
  std::shared_ptr<const Parsed> parsed_;
};

}  // namespace arbiter::jinja

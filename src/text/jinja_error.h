// The interpreter's internal failure signal. Parsing and rendering are deeply recursive and almost
// every operation can fail, so failures unwind by exception inside the jinja code and are turned into
// a Status at the public boundary (jinja.cpp); no exception leaves it.
#pragma once

#include <string>

namespace arbiter::jinja {

struct TemplateError {
  std::string message;
  int line = 0;  // template line, 0 when not known yet (filled in by the statement that runs it)
};

[[noreturn]] inline void fail(std::string message, int line = 0) { throw TemplateError{std::move(message), line}; }

}  // namespace arbiter::jinja

// Checks of numeric options whose messages say what is wanted. CLI11's PositiveNumber and
// NonNegativeNumber print the whole double range ("0 not in range 0.000000 to 1797...", 300 digits), and
// its Range lets NaN through (every comparison with NaN is false).
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

namespace arbiter::cli {

namespace detail {

// The option's text as a finite number, or false.
inline bool finite_number(const std::string& text, double* value) {
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0' && std::isfinite(*value);
}

}  // namespace detail

inline CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        return detail::finite_number(text, &v) && v > 0 ? "" : "must be a number > 0, got '" + text + "'";
      },
      "NUMBER > 0");
}

inline CLI::Validator non_negative_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        return detail::finite_number(text, &v) && v >= 0 ? "" : "must be a number >= 0, got '" + text + "'";
      },
      "NUMBER >= 0");
}

// A finite number in [low, high] (NaN refused).
inline CLI::Validator number_in(double low, double high) {
  char range_text[64];
  std::snprintf(range_text, sizeof range_text, "[%g, %g]", low, high);
  const std::string range = range_text;
  return CLI::Validator(
      [low, high, range](std::string& text) -> std::string {
        double v = 0;
        return detail::finite_number(text, &v) && v >= low && v <= high ? ""
                                                                       : "must be a number in " + range + ", got '" + text + "'";
      },
      "NUMBER in " + range);
}

// A value that is not empty: an empty one would run as if the option were not given, yet be recorded as
// given (and a resume without it then refused).
inline CLI::Validator non_empty() {
  return CLI::Validator([](std::string& text) -> std::string { return text.empty() ? "must not be empty" : ""; },
                        "");
}

}  // namespace arbiter::cli

// Number formatting and line output shared by the subcommands that print result tables.
#pragma once

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace arbiter::cli {

// A number with a fixed number of decimals; "nan" for a NaN.
inline std::string fixed(double v, int decimals) {
  if (std::isnan(v)) return "nan";
  char buf[64];
  // Past 1e15 fixed notation is all digits (and past 1e59 longer than the buffer): exponent notation.
  if (std::fabs(v) >= 1e15 && std::isfinite(v)) std::snprintf(buf, sizeof(buf), "%.*e", decimals, v);
  else std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

// JSON has no NaN or infinity: undefined values are written as null.
inline nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

// Flushed, so stdout and progress lines on stderr stay in order when both go to one pipe.
inline void print_line(const std::string& text) {
  std::fputs((text + "\n").c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace arbiter::cli

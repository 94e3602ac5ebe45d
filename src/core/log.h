// Logging to stderr with a level set once by the CLI. Progress lines for long work are in progress.h.
#pragma once

#include <string>

namespace arbiter {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
void log(LogLevel level, const std::string& message);
inline void log_info(const std::string& m) { log(LogLevel::kInfo, m); }
// Whether a progress bar stands on the terminal's current line, unfinished: the next message clears it.
void set_progress_bar_on_line(bool on);
// Clears a progress bar drawn on the terminal's current line, if there is one.
void clear_progress_bar_line();
inline void log_warn(const std::string& m) { log(LogLevel::kWarn, m); }
inline void log_debug(const std::string& m) { log(LogLevel::kDebug, m); }

}  // namespace arbiter

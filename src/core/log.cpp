#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace arbiter {

namespace {
std::atomic<int> g_level{int(LogLevel::kInfo)};
std::atomic<bool> g_bar_on_line{false};
std::mutex g_log_mutex;
}  // namespace

void set_progress_bar_on_line(bool on) { g_bar_on_line = on; }

void clear_progress_bar_line() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  if (g_bar_on_line.exchange(false)) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
}

void set_log_level(LogLevel level) { g_level = int(level); }
LogLevel log_level() { return LogLevel(g_level.load()); }

void log(LogLevel level, const std::string& message) {
  if (int(level) > g_level.load()) return;
  static const char* const kPrefix[] = {"error: ", "warning: ", "", "debug: "};
  std::lock_guard<std::mutex> lock(g_log_mutex);
  // A progress bar drawn on the terminal's line (no newline after it) is cleared first, so the message
  // gets a line of its own; the bar is drawn again below it at its next update.
  const char* clear = g_bar_on_line.exchange(false) ? "\r\033[K" : "";
  std::fprintf(stderr, "%s%s%s\n", clear, kPrefix[int(level)], message.c_str());
}

}  // namespace arbiter

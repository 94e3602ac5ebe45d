#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace arbiter {

namespace {
std::atomic<int> g_level{int(LogLevel::kInfo)};
std::mutex g_log_mutex;
}  // namespace

void set_log_level(LogLevel level) { g_level = int(level); }
LogLevel log_level() { return LogLevel(g_level.load()); }

void log(LogLevel level, const std::string& message) {
  if (int(level) > g_level.load()) return;
  static const char* const kPrefix[] = {"error: ", "warning: ", "", "debug: "};
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::fprintf(stderr, "%s%s\n", kPrefix[int(level)], message.c_str());
}

}  // namespace arbiter

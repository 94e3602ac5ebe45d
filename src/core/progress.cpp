#include "core/progress.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "core/log.h"

namespace arbiter {

namespace {
std::atomic<bool> g_data_on_progress_terminal{false};

std::string format_duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  const int64_t s = int64_t(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
  else std::snprintf(buf, sizeof buf, "%02lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  return buf;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}
}  // namespace

void note_output_stream(int fd) {
  struct stat out {}, err {};
  if (isatty(STDERR_FILENO) != 1 || ::fstat(fd, &out) != 0 || ::fstat(STDERR_FILENO, &err) != 0) return;
  if (!S_ISCHR(out.st_mode) || out.st_rdev != err.st_rdev) return;
  g_data_on_progress_terminal = true;
  clear_progress_bar_line();  // a bar already drawn would have the first data line appended to it
}

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), tty_(isatty(STDERR_FILENO) == 1),
      enabled_(log_level() >= LogLevel::kInfo), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t items, int64_t tokens) {
  done_ += items;
  tokens_ += tokens;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since >= (tty_ && !g_data_on_progress_terminal ? 0.2 : 10.0)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::show() {
  last_draw_ = std::chrono::steady_clock::now();
  draw(false);
}

void Progress::skip(int64_t items) {
  skipped_ += items;
  advance(items);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

std::string progress_stats(const ProgressCounts& c, const std::string& unit, bool final) {
  const double rate = c.elapsed > 0 ? double(c.done - c.skipped) / c.elapsed : 0;
  const double token_rate = c.elapsed > 0 ? double(c.tokens) / c.elapsed : 0;
  const double eta = (c.total > 0 && rate > 0) ? double(c.total - c.done) / rate : -1;
  char stats[160];
  if (unit == "bytes") {
    std::snprintf(stats, sizeof stats, "%s%s%s | %s/s | %s elapsed%s%s", format_bytes(double(c.done)).c_str(),
                  c.total > 0 ? " / " : "", c.total > 0 ? format_bytes(double(c.total)).c_str() : "",
                  format_bytes(rate).c_str(), format_duration(c.elapsed).c_str(), final ? "" : " | ETA ",
                  final ? "" : format_duration(eta).c_str());
  } else {
    std::snprintf(stats, sizeof stats, "%lld%s%s %s | %.1f %s/s | %.0f tok/s | %s elapsed%s%s", (long long)c.done,
                  c.total > 0 ? "/" : "", c.total > 0 ? std::to_string(c.total).c_str() : "", unit.c_str(), rate,
                  unit.c_str(), token_rate, format_duration(c.elapsed).c_str(), final ? "" : " | ETA ",
                  final ? "" : format_duration(eta).c_str());
  }
  return stats;
}

void Progress::draw(bool final) {
  if (!enabled_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::string stats = progress_stats(ProgressCounts{done_, skipped_, tokens_, total_, elapsed}, unit_, final);
  if (tty_ && !g_data_on_progress_terminal) {
    std::string bar;
    if (total_ > 0) {
      const int width = 24;
      const int filled = int(double(width) * double(done_) / double(total_));
      bar.assign(1, '[');
      bar.append(size_t(std::min(filled, width)), '#');
      bar.append(size_t(std::max(0, width - filled)), '.');
      bar += "] ";
    }
    std::fprintf(stderr, "\r\033[K%s %s%s%s", label_.c_str(), bar.c_str(), stats.c_str(), final ? "\n" : "");
    set_progress_bar_on_line(!final);
  } else {
    std::fprintf(stderr, "%s: %s\n", label_.c_str(), stats.c_str());
  }
  std::fflush(stderr);
}

}  // namespace arbiter

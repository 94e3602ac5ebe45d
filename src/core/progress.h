// Progress of long work on stderr: a redrawn bar with rate and ETA on a terminal, a quiet line every few
// seconds when stderr is piped or redirected (logs stay readable).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace arbiter {

// What a progress line reports, at `elapsed` seconds into the run.
struct ProgressCounts {
  int64_t done = 0, skipped = 0, tokens = 0, total = 0;  // skipped: done before this run, within done
  double elapsed = 0;
};

// The line's numbers: "done/total unit | rate unit/s | token rate | elapsed | ETA" (amounts and rates in
// KiB/MiB/GiB for the unit "bytes"). The rate counts only this run's own work; the ETA is the work left at it.
std::string progress_stats(const ProgressCounts& counts, const std::string& unit, bool final);

// Called with an output's file descriptor when it is a stream (-o /dev/stdout): when that stream is the
// terminal stderr shows, data lines go where the bar is redrawn, so progress prints quiet lines instead.
void note_output_stream(int fd);

class Progress {
 public:
  // total <= 0: unknown (no ETA). unit names what is counted ("rows"); the unit "bytes" shows amounts and
  // rates as KiB/MiB/GiB and no token rate (downloads).
  Progress(std::string label, int64_t total, std::string unit = "rows");
  ~Progress();
  void set_total(int64_t total) { total_ = total; }
  // Adds done items and processed tokens, and redraws when due.
  void advance(int64_t items, int64_t tokens = 0);
  // Adds items done before this run (a resumed file's rows): counted as done, but not in the rate, so
  // that the ETA is that of the work left at this run's own pace.
  void skip(int64_t items);
  // Draws the line now (at the start: the run has begun, and how much it has to do, before its first
  // batch comes back, which on a large model takes minutes).
  void show();
  void finish();

 private:
  void draw(bool final);
  std::string label_, unit_;
  int64_t total_, done_ = 0, tokens_ = 0, skipped_ = 0;
  bool tty_, finished_ = false, enabled_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace arbiter

// Server metrics in the Prometheus text exposition format: requests by route and status, errors by
// route and type, queue depth, batch sizes, tokens and tokens/s, request and forward latencies.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace arbiter::serve {

// Cumulative buckets as Prometheus expects: counts[i] = observations <= bounds[i]; +Inf is `count`.
struct Histogram {
  std::vector<double> bounds;
  std::vector<int64_t> counts;
  int64_t count = 0;
  double sum = 0;

  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
};

class Metrics {
 public:
  Metrics();
  void record_request(const std::string& route, int status, double seconds);
  void record_error(const std::string& route, const std::string& type);
  // tokens: the batch's sequences' together; computed: those the model ran (prefixes shared or kept once).
  void record_batch(int64_t sequences, int64_t tokens, int64_t computed, int64_t generated, double seconds);
  // Keys and values the backend keeps for later batches (--prefix-cache-mb), as of the latest batch.
  void set_kept_prefix_bytes(int64_t bytes);
  // queue_depth: sequences waiting now, read by the caller at scrape time.
  std::string render(int64_t queue_depth) const;

 private:
  double tokens_per_second_locked(std::chrono::steady_clock::time_point now) const;

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
  std::map<std::pair<std::string, std::string>, int64_t> errors_;
  std::map<std::string, Histogram> latency_;  // by route
  Histogram batch_sequences_, batch_tokens_, forward_seconds_;
  int64_t tokens_total_ = 0, computed_tokens_total_ = 0, generated_tokens_total_ = 0, kept_prefix_bytes_ = 0;
  // (time, tokens) of recent forward passes, for a tokens/s gauge over the last window.
  mutable std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>> recent_;
};

}  // namespace arbiter::serve

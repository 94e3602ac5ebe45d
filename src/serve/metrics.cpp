#include "serve/metrics.h"

#include <cstdio>

namespace arbiter::serve {

namespace {

const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
const std::vector<double> kBatchSequenceBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256};
const std::vector<double> kBatchTokenBounds = {64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
constexpr double kRateWindowSeconds = 10.0;

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Label values are our own route names and error types, but escape anyway: the format requires it.
std::string label_value(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out;
}

void write_histogram(std::string& out, const std::string& name, const std::string& labels, const Histogram& h) {
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < h.bounds.size(); ++i)
    out += name + "_bucket{" + labels + sep + "le=\"" + number(h.bounds[i]) + "\"} " + std::to_string(h.counts[i]) + "\n";
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + number(h.sum) + "\n";
  out += name + "_count" + braces + " " + std::to_string(h.count) + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds) : bounds(std::move(upper_bounds)), counts(bounds.size(), 0) {}

void Histogram::observe(double value) {
  for (size_t i = 0; i < bounds.size(); ++i)
    if (value <= bounds[i]) ++counts[i];
  ++count;
  sum += value;
}

Metrics::Metrics()
    : batch_sequences_(kBatchSequenceBounds), batch_tokens_(kBatchTokenBounds), forward_seconds_(kLatencyBounds) {}

void Metrics::record_request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
  latency_.try_emplace(route, kLatencyBounds).first->second.observe(seconds);
}

void Metrics::record_error(const std::string& route, const std::string& type) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++errors_[{route, type}];
}

void Metrics::record_batch(int64_t sequences, int64_t tokens, int64_t computed, int64_t generated, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  batch_sequences_.observe(double(sequences));
  batch_tokens_.observe(double(tokens));
  forward_seconds_.observe(seconds);
  tokens_total_ += tokens;
  // A generated token costs the model a decoding step: computed, though it was no input.
  computed_tokens_total_ += computed + generated;
  generated_tokens_total_ += generated;
  const auto now = std::chrono::steady_clock::now();
  recent_.emplace_back(now, tokens);
  tokens_per_second_locked(now);  // prunes
}

void Metrics::set_kept_prefix_bytes(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  kept_prefix_bytes_ = bytes;
}

double Metrics::tokens_per_second_locked(std::chrono::steady_clock::time_point now) const {
  while (!recent_.empty() && std::chrono::duration<double>(now - recent_.front().first).count() > kRateWindowSeconds)
    recent_.pop_front();
  int64_t tokens = 0;
  for (const auto& [time, n] : recent_) tokens += n;
  return double(tokens) / kRateWindowSeconds;
}

std::string Metrics::render(int64_t queue_depth) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  out += "# HELP arbiter_requests_total HTTP requests by route and status code.\n# TYPE arbiter_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += "arbiter_requests_total{route=\"" + label_value(key.first) + "\",status=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  out += "# HELP arbiter_errors_total Failed requests by route and error type.\n# TYPE arbiter_errors_total counter\n";
  for (const auto& [key, n] : errors_)
    out += "arbiter_errors_total{route=\"" + label_value(key.first) + "\",type=\"" + label_value(key.second) + "\"} " +
           std::to_string(n) + "\n";
  out += "# HELP arbiter_queue_depth Sequences waiting for a forward pass.\n# TYPE arbiter_queue_depth gauge\n";
  out += "arbiter_queue_depth " + std::to_string(queue_depth) + "\n";
  out += "# HELP arbiter_tokens_total Input tokens run through the model.\n# TYPE arbiter_tokens_total counter\n";
  out += "arbiter_tokens_total " + std::to_string(tokens_total_) + "\n";
  out += "# HELP arbiter_computed_tokens_total Tokens the model computed: prefixes shared within a batch, or kept from "
         "earlier ones, once; generated tokens included.\n# TYPE arbiter_computed_tokens_total counter\n";
  out += "arbiter_computed_tokens_total " + std::to_string(computed_tokens_total_) + "\n";
  out += "# HELP arbiter_generated_tokens_total Tokens a generating judge wrote (--generate).\n"
         "# TYPE arbiter_generated_tokens_total counter\n";
  out += "arbiter_generated_tokens_total " + std::to_string(generated_tokens_total_) + "\n";
  out += "# HELP arbiter_kept_prefix_bytes Keys and values kept for later batches (--prefix-cache-mb).\n"
         "# TYPE arbiter_kept_prefix_bytes gauge\n";
  out += "arbiter_kept_prefix_bytes " + std::to_string(kept_prefix_bytes_) + "\n";
  out += "# HELP arbiter_tokens_per_second Tokens per second over the last 10 s.\n# TYPE arbiter_tokens_per_second gauge\n";
  out += "arbiter_tokens_per_second " + number(tokens_per_second_locked(std::chrono::steady_clock::now())) + "\n";
  out += "# HELP arbiter_batch_sequences Sequences per forward pass.\n# TYPE arbiter_batch_sequences histogram\n";
  write_histogram(out, "arbiter_batch_sequences", "", batch_sequences_);
  out += "# HELP arbiter_batch_tokens Tokens per forward pass.\n# TYPE arbiter_batch_tokens histogram\n";
  write_histogram(out, "arbiter_batch_tokens", "", batch_tokens_);
  out += "# HELP arbiter_forward_seconds Time of one forward pass.\n# TYPE arbiter_forward_seconds histogram\n";
  write_histogram(out, "arbiter_forward_seconds", "", forward_seconds_);
  out += "# HELP arbiter_request_seconds Request latency by route.\n# TYPE arbiter_request_seconds histogram\n";
  for (const auto& [route, h] : latency_)
    write_histogram(out, "arbiter_request_seconds", "route=\"" + label_value(route) + "\"", h);
  return out;
}

}  // namespace arbiter::serve

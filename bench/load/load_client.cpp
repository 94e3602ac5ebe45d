// arbiter_load: N concurrent clients POST one request body to a running `arbiter serve` for T seconds and
// report latency percentiles and throughput. Loopback only (a load test is not for other machines), and
// bounded in clients and time. Each client keeps its connection alive, as a trainer's client would.
//
//   arbiter_load --port 8000 --clients 64 --seconds 60 --route /v1/score --body-file request.json
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct ClientTally {
  std::vector<double> latencies_ms;  // successful requests only
  std::map<int, int64_t> statuses;   // -1: connection failure
};

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, size_t(p / 100.0 * double(sorted.size())));
  return sorted[i];
}

// arbiter_tokens_total from /metrics, or -1.
double scrape_tokens(const std::string& host, int port, const httplib::Headers& headers) {
  httplib::Client client(host, port);
  auto res = client.Get("/metrics", headers);
  if (!res || res->status != 200) return -1;
  std::istringstream in(res->body);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("arbiter_tokens_total ", 0) == 0) return std::atof(line.c_str() + 21);
  return -1;
}

// How many items one request scores, for items/s: the length of its top-level list.
int64_t items_in(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return 1;
  for (const char* key : {"query", "pairs", "conversations", "items", "input_ids", "input"}) {
    if (!j.contains(key)) continue;
    const auto& v = j[key];
    if (v.is_array() && !v.empty() && !v[0].is_number()) return int64_t(v.size());
    return 1;
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"arbiter_load: concurrent clients against a running arbiter serve (loopback only)"};
  std::string host = "127.0.0.1", route = "/v1/score", body, body_file, api_key;
  int port = 8000, clients = 64;
  double seconds = 60;
  bool json_out = false;
  app.add_option("--host", host, "127.0.0.1, ::1 or localhost")->default_val("127.0.0.1");
  app.add_option("--port", port, "server port")->required();
  app.add_option("--clients", clients, "concurrent clients (1..1024)")->default_val(64);
  app.add_option("--seconds", seconds, "duration (0 < T <= 600)")->default_val(60);
  app.add_option("--route", route, "POST route")->default_val("/v1/score");
  app.add_option("--body", body, "request body (JSON)");
  app.add_option("--body-file", body_file, "file with the request body");
  app.add_option("--api-key", api_key, "bearer token");
  app.add_flag("--json", json_out, "print the summary as JSON");
  CLI11_PARSE(app, argc, argv);

  if (host != "127.0.0.1" && host != "::1" && host != "localhost") {
    std::fprintf(stderr, "arbiter_load: only loopback hosts are allowed, not '%s'\n", host.c_str());
    return 2;
  }
  if (clients < 1 || clients > 1024 || !(seconds > 0 && seconds <= 600)) {
    std::fprintf(stderr, "arbiter_load: --clients must be 1..1024 and --seconds in (0, 600]\n");
    return 2;
  }
  if (!body_file.empty()) {
    std::ifstream in(body_file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "arbiter_load: cannot read %s\n", body_file.c_str());
      return 2;
    }
    body.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (body.empty()) {
    std::fprintf(stderr, "arbiter_load: give --body or --body-file\n");
    return 2;
  }
  httplib::Headers headers;
  if (!api_key.empty()) headers.emplace("Authorization", "Bearer " + api_key);
  const int64_t items_per_request = items_in(body);

  const double tokens_before = scrape_tokens(host, port, headers);
  std::vector<ClientTally> tallies(static_cast<size_t>(clients));
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      ClientTally& tally = tallies[size_t(c)];
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      // A request still in flight at the end may take at most another T: the run stays within 2T.
      client.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::duration<double>(seconds)));
      while (Clock::now() < end) {
        const auto t0 = Clock::now();
        auto res = client.Post(route.c_str(), headers, body, "application/json");
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        const int status = res ? res->status : -1;
        ++tally.statuses[status];
        if (status == 200) tally.latencies_ms.push_back(ms);
        else if (status == 429) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        else if (status == -1) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double tokens_after = scrape_tokens(host, port, headers);

  std::vector<double> all;
  std::map<int, int64_t> statuses;
  for (auto& t : tallies) {
    all.insert(all.end(), t.latencies_ms.begin(), t.latencies_ms.end());
    for (auto [s, n] : t.statuses) statuses[s] += n;
  }
  std::sort(all.begin(), all.end());
  nlohmann::json summary;
  summary["route"] = route;
  summary["clients"] = clients;
  summary["seconds"] = elapsed;
  summary["ok_requests"] = all.size();
  for (auto [s, n] : statuses) summary["statuses"][std::to_string(s)] = n;
  summary["requests_per_second"] = double(all.size()) / elapsed;
  summary["items_per_second"] = double(all.size()) * double(items_per_request) / elapsed;
  summary["latency_ms"] = {{"p50", percentile(all, 50)}, {"p90", percentile(all, 90)}, {"p99", percentile(all, 99)},
                           {"max", all.empty() ? 0.0 : all.back()}};
  if (tokens_before >= 0 && tokens_after >= 0) summary["server_tokens_per_second"] = (tokens_after - tokens_before) / elapsed;
  if (json_out) {
    std::printf("%s\n", summary.dump(2).c_str());
  } else {
    std::printf("%s: %d clients, %.1f s: %zu ok (%.1f req/s, %.1f items/s), latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
                route.c_str(), clients, elapsed, all.size(), summary["requests_per_second"].get<double>(),
                summary["items_per_second"].get<double>(), percentile(all, 50), percentile(all, 90), percentile(all, 99),
                all.empty() ? 0.0 : all.back());
    if (summary.contains("server_tokens_per_second"))
      std::printf(", server %.0f tokens/s", summary["server_tokens_per_second"].get<double>());
    std::printf("\n");
    for (auto [s, n] : statuses)
      if (s != 200) std::printf("  status %d: %lld\n", s, (long long)n);
  }
  return all.empty() ? 1 : 0;
}

// arbiter_load: N concurrent clients POST one request body to a running `arbiter serve` for T seconds and
// report latency percentiles and throughput. Loopback only (a load test is not for other machines), and
// bounded in clients and time. Each client keeps its connection alive, as a trainer's client with a session
// does, or (--new-connection-per-request) opens one per request, as one without does.
//
//   arbiter_load --port 8000 --clients 64 --seconds 60 --route /v1/score --body-file request.json
//
// Every request that does not end in a 2xx answer is a failure, counted by kind (see FailureKind) and by
// status, and the exit status is 1 when there was any: "zero errors" is then a checkable claim.
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// How a request failed. A request without an HTTP answer is told apart by httplib's error and by how long
// it took: a read that gave up at the client's read timeout is the client's own timeout, one that ended
// earlier means the server closed or reset the connection without answering.
enum class FailureKind { kConnect, kWrite, kReadTimeout, kClosedWithoutAnswer, kOtherTransport, kHttpStatus };

const char* kind_name(FailureKind kind) {
  switch (kind) {
    case FailureKind::kConnect: return "connect_failed";
    case FailureKind::kWrite: return "write_failed";
    case FailureKind::kReadTimeout: return "read_timeout";
    case FailureKind::kClosedWithoutAnswer: return "closed_without_answer";
    case FailureKind::kOtherTransport: return "other_transport_error";
    case FailureKind::kHttpStatus: return "http_status";
  }
  return "?";
}

// One failed request, kept for the first few of a run so a failure can be traced to its cause.
struct Failure {
  FailureKind kind;
  int status = 0;           // kHttpStatus: the answer's status
  std::string error;        // httplib's error name
  int saved_errno = 0;      // errno right after the failed call (0: none set, e.g. end of stream)
  double at_s = 0;          // since the start of the run
  double took_ms = 0;       // how long the request ran
  int64_t on_connection = 0;  // 1: the first request on its connection
};

struct ClientTally {
  std::vector<double> latencies_ms;      // 2xx answers only
  std::map<int, int64_t> statuses;       // every HTTP answer by status
  std::map<FailureKind, int64_t> failures;
  std::vector<Failure> first_failures;   // at most kKeptFailures
  int64_t connections = 0;               // sockets this client opened
};
constexpr size_t kKeptFailures = 8;

Failure classify(const httplib::Result& res, int saved_errno, double took_ms, double read_timeout_ms) {
  Failure f;
  f.saved_errno = saved_errno;
  f.took_ms = took_ms;
  if (res) {
    f.kind = FailureKind::kHttpStatus;
    f.status = res->status;
    return f;
  }
  f.error = httplib::to_string(res.error());
  switch (res.error()) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout: f.kind = FailureKind::kConnect; break;
    case httplib::Error::Write: f.kind = FailureKind::kWrite; break;
    case httplib::Error::Read:
      f.kind = took_ms >= 0.99 * read_timeout_ms ? FailureKind::kReadTimeout : FailureKind::kClosedWithoutAnswer;
      break;
    default: f.kind = FailureKind::kOtherTransport; break;
  }
  return f;
}

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

// One client: requests back to back until `end`, on one kept-alive connection or (keep_alive false) a new
// connection per request, as a client without a session does (Python's requests.post, OpenRLHF's
// remote reward function).
void run_client(const std::string& host, int port, const std::string& route, const httplib::Headers& headers,
                const std::string& body, bool keep_alive, double read_timeout_s, Clock::time_point start,
                Clock::time_point end, ClientTally& tally) {
  int64_t on_connection = 0;  // requests sent on the current connection
  httplib::Client client(host, port);
  client.set_keep_alive(keep_alive);
  client.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::duration<double>(read_timeout_s)));
  // Called for every socket the client creates, so reconnections are counted (httplib reconnects
  // silently when it finds its kept-alive socket closed).
  client.set_socket_options([&](socket_t) {
    ++tally.connections;
    on_connection = 0;
  });
  while (Clock::now() < end) {
    const auto t0 = Clock::now();
    errno = 0;
    auto res = client.Post(route.c_str(), headers, body, "application/json");
    const int saved_errno = errno;
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    ++on_connection;
    if (res) ++tally.statuses[res->status];
    if (res && res->status >= 200 && res->status < 300) {
      tally.latencies_ms.push_back(ms);
      continue;
    }
    Failure f = classify(res, saved_errno, ms, read_timeout_s * 1e3);
    f.at_s = std::chrono::duration<double>(t0 - start).count();
    f.on_connection = on_connection;
    ++tally.failures[f.kind];
    if (tally.first_failures.size() < kKeptFailures) tally.first_failures.push_back(f);
    // Back off a little, as a client would, rather than spin on a refusing server.
    std::this_thread::sleep_for(std::chrono::milliseconds(res && res->status == 429 ? 50 : 100));
  }
}

nlohmann::json failure_json(const Failure& f) {
  nlohmann::json j = {{"kind", kind_name(f.kind)}, {"at_s", f.at_s}, {"took_ms", f.took_ms},
                      {"request_on_connection", f.on_connection}};
  if (f.kind == FailureKind::kHttpStatus) j["status"] = f.status;
  else {
    j["httplib_error"] = f.error;
    j["errno"] = f.saved_errno == 0 ? std::string("0") : std::string(std::strerror(f.saved_errno));
  }
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"arbiter_load: concurrent clients against a running arbiter serve (loopback only)"};
  std::string host = "127.0.0.1", route = "/v1/score", body, body_file, api_key;
  int port = 8000, clients = 64;
  double seconds = 60, read_timeout = 0;
  bool json_out = false, new_connections = false;
  app.add_option("--host", host, "127.0.0.1, ::1 or localhost")->default_val("127.0.0.1");
  app.add_option("--port", port, "server port")->required();
  app.add_option("--clients", clients, "concurrent clients (1..1024)")->default_val(64);
  app.add_option("--seconds", seconds, "duration (0 < T <= 600)")->default_val(60);
  app.add_option("--read-timeout", read_timeout, "seconds a request may wait for its answer (default: --seconds + 10)");
  app.add_option("--route", route, "POST route")->default_val("/v1/score");
  app.add_option("--body", body, "request body (JSON)");
  app.add_option("--body-file", body_file, "file with the request body");
  app.add_option("--api-key", api_key, "bearer token");
  app.add_flag("--new-connection-per-request", new_connections,
               "close the connection after every request (Connection: close) instead of keeping it alive");
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
  // A request still in flight at the end may take at most another read timeout, so a run lasts at most
  // T + read timeout. The default outlasts the server's default --timeout-ms (60 s) in a 60 s run, so a
  // request the server gives up on is counted as its 504, not as the client's own timeout.
  if (read_timeout <= 0) read_timeout = seconds + 10;
  if (read_timeout > 600) {
    std::fprintf(stderr, "arbiter_load: --read-timeout must be at most 600 s\n");
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
  for (int c = 0; c < clients; ++c)
    threads.emplace_back(run_client, std::cref(host), port, std::cref(route), std::cref(headers), std::cref(body),
                         !new_connections, read_timeout, start, end, std::ref(tallies[size_t(c)]));
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double tokens_after = scrape_tokens(host, port, headers);

  std::vector<double> all;
  std::map<int, int64_t> statuses;
  std::map<FailureKind, int64_t> failures;
  std::vector<Failure> examples;
  int64_t connections = 0, failed = 0;
  for (auto& t : tallies) {
    all.insert(all.end(), t.latencies_ms.begin(), t.latencies_ms.end());
    for (auto [s, n] : t.statuses) statuses[s] += n;
    for (auto [k, n] : t.failures) failures[k] += n, failed += n;
    examples.insert(examples.end(), t.first_failures.begin(), t.first_failures.end());
    connections += t.connections;
  }
  std::sort(examples.begin(), examples.end(), [](const Failure& a, const Failure& b) { return a.at_s < b.at_s; });
  if (examples.size() > kKeptFailures) examples.resize(kKeptFailures);
  std::sort(all.begin(), all.end());

  nlohmann::json summary;
  summary["route"] = route;
  summary["clients"] = clients;
  summary["new_connection_per_request"] = new_connections;
  summary["seconds"] = elapsed;
  summary["ok_requests"] = all.size();
  summary["failed_requests"] = failed;
  summary["connections_opened"] = connections;
  summary["statuses"] = nlohmann::json::object();
  for (auto [s, n] : statuses) summary["statuses"][std::to_string(s)] = n;
  summary["failures"] = nlohmann::json::object();
  for (auto [k, n] : failures) summary["failures"][kind_name(k)] = n;
  summary["first_failures"] = nlohmann::json::array();
  for (const Failure& f : examples) summary["first_failures"].push_back(failure_json(f));
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
    std::printf("\n%lld failed, %lld connections opened\n", (long long)failed, (long long)connections);
    for (auto [k, n] : failures) {
      if (k == FailureKind::kHttpStatus) {
        for (auto [s, m] : statuses)
          if (s < 200 || s >= 300) std::printf("  status %d: %lld\n", s, (long long)m);
      } else {
        std::printf("  %s: %lld\n", kind_name(k), (long long)n);
      }
    }
    for (const Failure& f : examples) std::printf("  e.g. %s\n", failure_json(f).dump().c_str());
  }
  return failed == 0 && !all.empty() ? 0 : 1;
}

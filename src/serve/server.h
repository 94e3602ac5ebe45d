// The HTTP server: one model behind OpenRLHF's /get_reward, vLLM's /classify and /pooling, arbiter's
// /v1/score and /v1/judge, and /health, /v1/models, /metrics. Handler threads parse and tokenize; one
// batching worker runs the model (see batch_queue.h). Every error is a JSON body
// {"error": {"message", "type"}} with a 4xx/5xx status; one log line per request goes to stderr.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "serve/http_message.h"
#include "serve/model_service.h"

namespace arbiter::serve {

// The longest --timeout-ms (and --header-timeout-ms): a week. A deadline is the request's arrival plus
// this on the steady clock, in nanoseconds: far larger values would overflow it into the past.
inline constexpr int64_t kMaxServeTimeoutMs = int64_t(7) * 24 * 3600 * 1000;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                   // 0: an ephemeral port (bind() says which)
  int64_t max_batch_tokens = 0;      // tokens per forward pass; 0: the backend's preferred_batch_tokens()
  int64_t max_queue = 1024;          // sequences waiting; a request that finds no room waits for it
  int64_t queue_wait_ms = 10000;     // ... this long at most (within timeout_ms), then 429
  int64_t timeout_ms = 60000;        // per request, from arrival to answer; then 504
  int64_t max_body_bytes = 8 << 20;  // larger bodies are 413
  std::string api_key;               // non-empty: `Authorization: Bearer <key>` is required (401)
  int http_threads = 64;             // requests handled at once (an idle or slow connection holds none)
  int header_timeout_ms = 10000;     // a request's head must arrive within this of its first byte; then 408
  bool log_requests = true;
  std::string device = "cpu";        // cpu, cuda or auto (runtime/device.h)
};

class BatchQueue;
class HttpServer;
class Metrics;

class Server {
 public:
  static Result<std::unique_ptr<Server>> create(std::shared_ptr<const Model> model, ServiceOptions service,
                                                ServerOptions options);
  ~Server();

  // Binds the listening socket (a backlog of 4096); returns the port (the ephemeral one when options.port
  // is 0). Fails when another socket listens on the port.
  Result<int> bind();
  // Serves until stop(); requests in flight are finished first. `on_ready`: see HttpServer::serve.
  Status serve(const std::function<void(int http_threads)>& on_ready = {});
  // Safe from any thread (a signal-handling thread, a test).
  void stop();

  const ModelService& service() const { return *service_; }

 private:
  Server();
  void install_routes();
  // Answers one request: method and API key checks, then its route.
  void handle(const HttpRequest& req, HttpResponse& res);

  struct Route {
    using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;
    Handler get, post;  // HEAD is answered as GET, without the body
  };
  std::map<std::string, Route> routes_;

  ServerOptions options_;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<ModelService> service_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<BatchQueue> queue_;
  std::unique_ptr<HttpServer> http_;
  std::atomic<bool> stopping_{false};
};

}  // namespace arbiter::serve

// The HTTP server: one model behind OpenRLHF's /get_reward, vLLM's /classify and /pooling, arbiter's
// /v1/score and /v1/judge, and /health, /v1/models, /metrics. Handler threads parse and tokenize; one
// batching worker runs the model (see batch_queue.h). Every error is a JSON body
// {"error": {"message", "type"}} with a 4xx/5xx status; one log line per request goes to stderr.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "serve/model_service.h"

namespace httplib {
class Server;
}

namespace arbiter::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                   // 0: an ephemeral port (bind() says which)
  int64_t max_batch_tokens = 0;      // tokens per forward pass; 0: the backend's preferred_batch_tokens()
  int64_t max_queue = 1024;          // sequences waiting; more is 429
  int64_t timeout_ms = 60000;        // per request, from arrival to answer; then 504
  int64_t max_body_bytes = 8 << 20;  // larger bodies are 413
  std::string api_key;               // non-empty: `Authorization: Bearer <key>` is required (401)
  int http_threads = 64;             // connections served at once (each keeps one thread)
  bool log_requests = true;
  std::string device = "cpu";        // cpu, cuda or auto (runtime/device.h)
};

class BatchQueue;
class Metrics;

class Server {
 public:
  static Result<std::unique_ptr<Server>> create(std::shared_ptr<const Model> model, ServiceOptions service,
                                                ServerOptions options);
  ~Server();

  // Binds the listening socket, with a listen backlog of thousands rather than httplib's 5; returns the
  // port (the ephemeral one when options.port is 0). Fails when another socket listens on the port.
  Result<int> bind();
  // Serves until stop(); requests in flight are finished first.
  Status serve();
  // Safe from any thread (a signal-handling thread, a test).
  void stop();

  const ModelService& service() const { return *service_; }

 private:
  Server() = default;
  void install_routes();

  ServerOptions options_;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<ModelService> service_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<BatchQueue> queue_;
  std::unique_ptr<httplib::Server> http_;
  int listen_socket_ = -1;  // httplib's listening socket, recorded while it is created (see bind())
  // Accepted connections still waiting for a handler thread (see install_routes()).
  std::shared_ptr<std::atomic<int64_t>> waiting_connections_ = std::make_shared<std::atomic<int64_t>>(0);
  std::atomic<bool> stopping_{false};
  std::atomic<bool> serve_entered_{false}, serve_returned_{false};  // see stop()
};

}  // namespace arbiter::serve

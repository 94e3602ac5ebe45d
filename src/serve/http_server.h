// The server's HTTP/1.1 connections. One I/O thread accepts connections and reads every one of them until
// it holds a whole request (head and body); only then does a handler thread take the request, answer it
// in one write, and hand the connection back. So a connection that is idle, or whose client sends slowly,
// holds no handler thread: the threads are for requests, not for connections, and a few slow or stuck
// clients cannot keep the others out. Bytes a client sends ahead (pipelined requests) stay in the
// connection's buffer and are answered in order.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "serve/http_message.h"

namespace arbiter::serve {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;  // 0: an ephemeral port (bind() says which)
  int threads = 64;  // requests handled at once
  HttpLimits limits;
  int idle_timeout_ms = 5000;     // a kept-alive connection with no request begun is closed after this
  int header_timeout_ms = 10000;  // from a request's first byte to the end of its head; then 408
  int body_timeout_ms = 30000;    // from the end of the head to the end of the body; then 408
  int write_timeout_ms = 30000;   // an answer the client does not read within this: the connection is closed
  size_t max_connections = 4096;  // more wait in the listen backlog
  // Bytes read and not yet handled, all connections together: above this, no connection is read (nor
  // accepted) until handled requests or deadlines free some, so many large uploads at once wait or time
  // out rather than exhaust memory.
  size_t max_buffered_bytes = size_t(1) << 30;
  int listen_backlog = 4096;      // capped by net.core.somaxconn
  // Requests answered on the I/O thread itself, without waiting for a handler thread: cheap ones that must
  // answer while every handler waits on model work (a health probe, a metrics scrape), when nothing is
  // pipelined behind them on their connection. Their handling must not block.
  std::function<bool(const HttpRequest&)> answer_inline;
};

class HttpServer {
 public:
  using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;
  // Fills an error answer (status, message) in the API's format, for the answers the server gives itself.
  using ErrorBody = std::function<void(HttpResponse&, int status, const std::string& message)>;
  // Called after every answer written: the handler's, and the server's own (a head that cannot be read, a
  // timeout) with the request as far as it was read.
  using Logger = std::function<void(const HttpRequest&, const HttpResponse&)>;

  HttpServer(HttpServerOptions options, Handler handler, ErrorBody error_body, Logger logger);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (SO_REUSEADDR: a restart may reuse a port whose connections are in TIME_WAIT, but a
  // second server cannot take a port another one listens on); returns the port.
  Result<int> bind();
  // Serves until stop(); requests being handled are answered first.
  // `on_ready` is called once the handler threads run (with how many), just before connections are
  // taken: the moment to tell a supervisor the server is up.
  Status serve(const std::function<void(int http_threads)>& on_ready = {});
  // Safe from any thread, also before serve().
  void stop();
  bool stopping() const { return stopping_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stopping_{false};
};

}  // namespace arbiter::serve

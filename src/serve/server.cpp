#include "serve/server.h"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <httplib.h>

#include "runtime/device.h"
#include "serve/auth.h"
#include "serve/batch_queue.h"
#include "serve/metrics.h"

namespace arbiter::serve {

namespace {

// httplib's thread pool, counting the connections that wait for a thread.
class CountingTaskQueue final : public httplib::TaskQueue {
 public:
  CountingTaskQueue(size_t threads, std::shared_ptr<std::atomic<int64_t>> waiting)
      : pool_(threads), waiting_(std::move(waiting)) {}
  void enqueue(std::function<void()> fn) override {
    waiting_->fetch_add(1);
    pool_.enqueue([waiting = waiting_, fn = std::move(fn)] {
      waiting->fetch_sub(1);
      fn();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  std::shared_ptr<std::atomic<int64_t>> waiting_;
};


using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Connections the kernel completes before the server accepts them. libcpp-httplib 0.11 is a shared
// library built with CPPHTTPLIB_LISTEN_BACKLOG 5 (defining the macro here changes nothing: its listen()
// call is compiled in). With 5, a burst of connects overflows the queue: the kernel answers with SYN
// cookies and drops the completing ACKs, and the clients' retransmissions, all on the same backoff
// schedule, keep overflowing it, so some connections are reset or never answered (docs/serve.md,
// "Connections"). The kernel caps this at net.core.somaxconn.
constexpr int kListenBacklog = 4096;

// What one request's handling learned, for its log line and metrics. httplib reads, handles and logs a
// request on one thread, so a thread-local carries it from the pre-routing hook to the logger.
struct RequestContext {
  bool active = false;
  Clock::time_point start;
  int64_t items = 0, tokens = 0;
};
thread_local RequestContext t_request;

const char* error_type_for(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 405: return "method_not_allowed";
    case 411: return "length_required";
    case 413: return "request_too_large";
    case 429: return "queue_full";
    case 503: return "unavailable";
    case 504: return "timeout";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message, const char* type = nullptr) {
  send_json(res, status, json{{"error", {{"message", message}, {"type", type ? type : error_type_for(status)}}}});
}

// Route names for metrics labels: the known paths, everything else "other" (bounded label values).
std::string route_label(const std::string& path) {
  for (const char* known : {"/get_reward", "/classify", "/pooling", "/v1/score", "/v1/judge", "/health", "/v1/models",
                            "/metrics", "/v1/classify"})
    if (path == known) return known;
  return "other";
}

}  // namespace

Result<std::unique_ptr<Server>> Server::create(std::shared_ptr<const Model> model, ServiceOptions service,
                                               ServerOptions options) {
  if (options.max_batch_tokens < 0) return error("--max-batch-tokens must be positive (or 0: the device's default)");
  if (options.max_queue <= 0) return error("--max-queue must be positive");
  if (options.timeout_ms <= 0) return error("--timeout-ms must be positive");
  if (options.max_body_bytes <= 0) return error("--max-body-bytes must be positive");
  if (options.http_threads <= 0) return error("--http-threads must be positive");
  std::unique_ptr<Server> s(new Server());
  s->options_ = std::move(options);
  s->model_ = model;
  ARB_ASSIGN(s->service_, ModelService::create(model, std::move(service)));
  ARB_ASSIGN(const DeviceChoice device, parse_device(s->options_.device));
  ARB_ASSIGN(s->backend_, make_backend(model, device));
  if (s->options_.max_batch_tokens == 0) s->options_.max_batch_tokens = s->backend_->preferred_batch_tokens();
  s->metrics_ = std::make_unique<Metrics>();
  Metrics* metrics = s->metrics_.get();
  s->queue_ = std::make_unique<BatchQueue>(*s->backend_, s->service_->forward_options(), s->options_.max_batch_tokens,
                                           s->options_.max_queue, [metrics](const BatchStats& b) {
                                             metrics->record_batch(b.sequences, b.tokens, b.computed, b.seconds);
                                             metrics->set_kept_prefix_bytes(b.kept_bytes);
                                           });
  s->http_ = std::make_unique<httplib::Server>();
  s->install_routes();
  return s;
}

Server::~Server() {
  stop();
  queue_.reset();  // finishes queued work, joins the worker
}

Result<int> Server::bind() {
  // httplib creates the listening socket inside bind_to_port and calls this on it before bind(); the
  // last socket it is called on is the one that bound. SO_REUSEADDR rather than httplib's default
  // SO_REUSEPORT: a restart may reuse the port of connections in TIME_WAIT, but a second server cannot
  // bind a port another one listens on and silently take half of its connections.
  listen_socket_ = -1;
  http_->set_socket_options([this](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_socket_ = sock;
  });
  const bool ok = options_.port == 0 ? true : http_->bind_to_port(options_.host, options_.port);
  int port = options_.port;
  if (options_.port == 0) port = http_->bind_to_any_port(options_.host);
  if (!ok || port <= 0)
    return error("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                 " (in use, or not an address of this machine)");
  // listen() on a listening socket sets its backlog anew (Linux keeps the queued connections).
  if (listen_socket_ < 0 || ::listen(listen_socket_, kListenBacklog) != 0)
    return error("cannot set the listen backlog on " + options_.host + ":" + std::to_string(port) + ": " +
                 (listen_socket_ < 0 ? std::string("httplib did not report its socket") : std::strerror(errno)));
  return port;
}

Status Server::serve() {
  serve_entered_ = true;
  const bool listened = stopping_ || http_->listen_after_bind();
  serve_returned_ = true;
  if (!listened && !stopping_) return error("the HTTP server stopped unexpectedly");
  // listen_after_bind returns once every handler thread has finished its request; the batching worker
  // has nothing left for them, so stopping it now loses nothing.
  queue_->stop();
  return Status::ok();
}

void Server::stop() {
  stopping_ = true;
  if (!http_) return;
  // httplib's stop() does nothing until its accept loop runs, so a stop() landing between serve()'s look
  // at stopping_ and the loop's start would be lost and serve() would never return. Either serve() sees
  // stopping_ (and does not listen), or this sees serve_entered_ and waits for the loop (both atomics are
  // sequentially consistent).
  if (serve_entered_)
    while (!http_->is_running() && !serve_returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
}

namespace {

// What httplib would get wrong or slowly, answered before it reads a body (pre-routing runs first):
// - a body larger than the limit, by its Content-Length: 413 now, not after reading it;
// - a chunked body: httplib 0.11 does not hold it to the payload limit, so it is refused (411);
// - a POST without Content-Length: an empty body (HTTP/1.1), not a 30-second wait for one;
// - methods no route takes (PUT, PATCH, DELETE, ...): 405 now, not a wait for their body;
// - a body typed as a form (curl -d's default): httplib caps form bodies at 8 KiB whatever the limit, and
//   every route reads JSON, so it is read as JSON.
// True when it has answered the request.
bool refuse_bad_framing(const httplib::Request& req, httplib::Response& res, int64_t max_body_bytes) {
  if (req.method != "GET" && req.method != "POST" && req.method != "HEAD" && req.method != "OPTIONS") {
    send_error(res, 405, "method " + req.method + " is not served (GET or POST)");
    return true;
  }
  if (req.method != "POST") return false;
  const std::string encoding = req.get_header_value("Transfer-Encoding");
  if (!encoding.empty() && encoding != "identity") {
    send_error(res, 411, "send the body with a Content-Length (a '" + encoding + "' body is not taken)");
    res.set_header("Connection", "close");  // the unread body must not be taken for the next request
    return true;
  }
  if (!req.has_header("Content-Length")) {
    send_error(res, 400, "the request has no body (no Content-Length): send a JSON object");
    return true;
  }
  const std::string length = req.get_header_value("Content-Length");
  char* end = nullptr;
  errno = 0;
  const unsigned long long bytes = std::strtoull(length.c_str(), &end, 10);
  if (end == length.c_str() || *end != '\0' || errno == ERANGE || bytes > uint64_t(max_body_bytes)) {
    send_error(res, 413, "the request body is larger than the limit (--max-body-bytes)");
    res.set_header("Connection", "close");
    return true;
  }
  if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
    // httplib owns the request and reads it after this handler; only its type changes here.
    auto& headers = const_cast<httplib::Headers&>(req.headers);
    headers.erase("Content-Type");
    headers.emplace("Content-Type", "application/json");
  }
  return false;
}

}  // namespace

void Server::install_routes() {
  httplib::Server& http = *http_;
  const size_t threads = size_t(options_.http_threads);
  http.new_task_queue = [threads, waiting = waiting_connections_] { return new CountingTaskQueue(threads, waiting); };
  http.set_payload_max_length(size_t(options_.max_body_bytes));
  http.set_keep_alive_timeout(2);  // bounds how long an idle connection delays a shutdown
  // Trainers keep one connection per worker; closing it every few requests makes POSTs fail in flight.
  http.set_keep_alive_max_count(100000);
  http.set_read_timeout(std::chrono::seconds(30));

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_request = RequestContext{true, Clock::now(), 0, 0};
    if (refuse_bad_framing(req, res, options_.max_body_bytes)) return httplib::Server::HandlerResponse::Handled;
    if (req.path == "/health" || options_.api_key.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (!bearer_token_matches(req.get_header_value("Authorization"), options_.api_key)) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, "missing or wrong API key (send 'Authorization: Bearer <key>')");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib itself answers (413 for a large body, 404, 400 for a broken request) get our body.
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string message = res.status == 404   ? "no such route"
                                : res.status == 413 ? "the request body is larger than the limit (--max-body-bytes)"
                                                    : "the request could not be read";
    send_error(res, res.status, message);
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, 500, "internal error: " + what);
  });
  // A kept-alive connection holds its handler thread for as long as the client keeps sending, so with more
  // clients than threads the extra ones would wait forever. While any accepted connection waits for a
  // thread, answers ask their client to close ("Connection: close"): each client reconnects at the back
  // of the line and every connection gets its turn.
  http.set_post_routing_handler([waiting = waiting_connections_](const httplib::Request&, httplib::Response& res) {
    if (waiting->load() > 0) res.set_header("Connection", "close");
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const RequestContext ctx = t_request;
    t_request = RequestContext{};
    const double seconds = ctx.active ? std::chrono::duration<double>(Clock::now() - ctx.start).count() : 0.0;
    const std::string route = route_label(req.path);
    metrics_->record_request(route, res.status, seconds);
    if (res.status >= 400) metrics_->record_error(route, error_type_for(res.status));
    if (options_.log_requests)
      std::fprintf(stderr, "serve: %s %s %d %.1f ms items=%lld tokens=%lld\n", req.method.c_str(), req.path.c_str(),
                   res.status, seconds * 1e3, (long long)ctx.items, (long long)ctx.tokens);
  });

  // Runs a prepared request through the batch queue; false when `res` already holds the error.
  auto execute = [this](Prepared& prepared, std::vector<SequenceOutput>& outputs, httplib::Response& res) -> bool {
    t_request.tokens = prepared.tokens;
    if (stopping_) {
      send_error(res, 503, "the server is shutting down");
      return false;
    }
    auto ticket = std::make_shared<Ticket>();
    ticket->sequences = std::move(prepared.sequences);
    std::future<Status> done = ticket->completion.get_future();
    switch (queue_->submit(ticket)) {
      case SubmitError::kNone: break;
      case SubmitError::kTooLarge:
        send_error(res, 413, std::to_string(ticket->sequences.size()) + " sequences in one request, more than the queue holds (--max-queue " +
                                 std::to_string(queue_->max_queue()) + ")");
        return false;
      case SubmitError::kQueueFull:
        res.set_header("Retry-After", "1");
        send_error(res, 429, "the queue is full (" + std::to_string(queue_->max_queue()) + " sequences); retry later");
        return false;
      case SubmitError::kStopping:
        send_error(res, 503, "the server is shutting down");
        return false;
    }
    const auto deadline = t_request.start + std::chrono::milliseconds(options_.timeout_ms);
    if (!BatchQueue::wait(*ticket, done, deadline)) {
      send_error(res, 504, "the request did not finish within " + std::to_string(options_.timeout_ms) +
                               " ms (--timeout-ms) and was cancelled");
      return false;
    }
    Status status = done.get();
    if (!status.is_ok()) {
      send_error(res, 500, "the model failed: " + status.message());
      return false;
    }
    outputs = std::move(ticket->outputs);
    return true;
  };
  const Mode mode = service_->mode();
  auto wrong_mode = [mode](httplib::Response& res, const char* route, Mode needed) {
    if (mode == needed) return false;
    send_error(res, 404, std::string(route) + " is served in --mode " + mode_name(needed) + "; this server runs --mode " +
                             mode_name(mode));
    return true;
  };
  // Parse, prepare, run, answer: the shape every model route shares.
  auto model_route = [this, execute, wrong_mode](const char* route, Mode needed, auto handle) {
    http_->Post(route, [this, route, needed, execute, wrong_mode, handle](const httplib::Request& req, httplib::Response& res) {
      if (wrong_mode(res, route, needed)) return;
      auto body = parse_body(req.body);
      if (!body) return send_error(res, 400, body.message());
      // Every route takes the OpenAI-style "model" field: a request for another model is not answered by this one.
      if (body->contains("model") && !(*body)["model"].is_null()) {
        const json& model = (*body)["model"];
        if (!model.is_string()) return send_error(res, 400, std::string("field 'model' is ") + model.type_name() + ", expected a string");
        if (model.get<std::string>() != service_->model_name())
          return send_error(res, 404, "model '" + model.get<std::string>() + "' is not served here (this server has '" +
                                          service_->model_name() + "')");
      }
      auto result = handle(*body, execute, res);
      if (!result) return;  // handle has answered with an error
      send_json(res, 200, *result);
    });
  };
  // A handler returns the response body, or nullopt after writing an error into res.
  using Exec = decltype(execute);
  auto reply = [](httplib::Response& res, Result<json> r, int status_on_error) -> std::optional<json> {
    if (!r) {
      send_error(res, status_on_error, r.message());
      return std::nullopt;
    }
    return std::move(r).value();
  };

  model_route("/v1/score", Mode::kReward, [this, reply](const json& body, const Exec& exec, httplib::Response& res) -> std::optional<json> {
    auto request = parse_score_request(body);
    if (!request) return reply(res, request.status(), 400);
    t_request.items = int64_t(request->items.size());
    auto prepared = service_->prepare_examples(request->items, body.contains("pairs") ? "pairs" : body.contains("conversations") ? "conversations" : "input_ids");
    if (!prepared) return reply(res, prepared.status(), 400);
    std::vector<SequenceOutput> outputs;
    if (!exec(*prepared, outputs, res)) return std::nullopt;
    return reply(res, service_->score_response(request->items, *prepared, outputs), 500);
  });
  model_route("/v1/judge", Mode::kJudge, [this, reply](const json& body, const Exec& exec, httplib::Response& res) -> std::optional<json> {
    auto request = parse_judge_request(body);
    if (!request) return reply(res, request.status(), 400);
    t_request.items = int64_t(request->items.size());
    auto prepared = service_->prepare_examples(request->items, "items");
    if (!prepared) return reply(res, prepared.status(), 400);
    std::vector<SequenceOutput> outputs;
    if (!exec(*prepared, outputs, res)) return std::nullopt;
    return reply(res, service_->judge_response(*request, *prepared, outputs), 500);
  });
  model_route("/get_reward", Mode::kReward, [this, reply](const json& body, const Exec& exec, httplib::Response& res) -> std::optional<json> {
    auto request = parse_reward_request(body);
    if (!request) return reply(res, request.status(), 400);
    t_request.items = int64_t(request->queries.size());
    auto prepared = service_->prepare_queries(*request);
    if (!prepared) return reply(res, prepared.status(), 400);
    std::vector<SequenceOutput> outputs;
    if (!exec(*prepared, outputs, res)) return std::nullopt;
    // A multi-output head without weights has no single reward: the request cannot be answered as asked.
    return reply(res, service_->reward_response(*prepared, outputs), 400);
  });
  for (const char* route : {"/classify", "/v1/classify", "/pooling"}) {
    const bool classify = std::string(route) != "/pooling";
    model_route(route, Mode::kReward, [this, reply, classify](const json& body, const Exec& exec, httplib::Response& res) -> std::optional<json> {
      if (classify && !service_->has_classes())
        return reply(res, error("this model gives rewards per step (a process reward model) or gated objectives, "
                                "not classes: use /pooling, /get_reward or /v1/score"), 400);
      auto request = parse_pooling_request(body);
      if (!request) return reply(res, request.status(), 400);
      if (!request->model.empty() && request->model != service_->model_name())
        return reply(res, error("model '" + request->model + "' is not served here (this server has '" + service_->model_name() + "')"), 404);
      auto prepared = service_->prepare_pooling(*request);
      if (!prepared) return reply(res, prepared.status(), 400);
      t_request.items = int64_t(prepared->sequences.size());
      std::vector<SequenceOutput> outputs;
      if (!exec(*prepared, outputs, res)) return std::nullopt;
      auto body_out = reply(res, service_->pooling_response(*prepared, outputs, classify), 500);
      if (body_out) {
        (*body_out)["id"] = std::string(classify ? "classify-" : "pool-") + std::to_string(Clock::now().time_since_epoch().count());
        (*body_out)["created"] = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      }
      return body_out;
    });
  }

  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    json body = {{"status", stopping_ ? "stopping" : "ok"}, {"model", service_->model_name()},
                 {"mode", mode_name(service_->mode())}, {"queue_depth", queue_->queued_sequences()}};
    send_json(res, stopping_ ? 503 : 200, body);
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, json{{"object", "list"}, {"data", json::array({service_->describe()})}});
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content(metrics_->render(queue_->queued_sequences()), "text/plain; version=0.0.4");
  });
}

}  // namespace arbiter::serve

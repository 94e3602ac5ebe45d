#include "serve/server.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "core/ascii.h"
#include "runtime/device.h"
#include "serve/auth.h"
#include "serve/batch_queue.h"
#include "serve/http_server.h"
#include "serve/metrics.h"

namespace arbiter::serve {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// What one request's handling learned, for its log line and metrics. One handler thread handles and logs a
// request (the I/O thread writes the answer), so a thread-local carries it from the handler to the logger.
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
    case 415: return "unsupported_media_type";
    case 429: return "queue_full";
    case 503: return "unavailable";
    case 504: return "timeout";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

void send_json(HttpResponse& res, int status, const json& body) {
  res.status = status;
  res.content_type = "application/json";
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void send_error(HttpResponse& res, int status, const std::string& message, const char* type = nullptr) {
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
  if (options.timeout_ms <= 0 || options.timeout_ms > kMaxServeTimeoutMs)
    return error("--timeout-ms must be positive and at most " + std::to_string(kMaxServeTimeoutMs) + " (a week)");
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
  const ModelService* service_ptr = s->service_.get();
  Backend* backend = s->backend_.get();
  RunBatch run = [service_ptr, backend](const std::vector<SequenceInput>& inputs) {
    return service_ptr->run_batch(*backend, inputs);
  };
  s->queue_ = std::make_unique<BatchQueue>(*s->backend_, std::move(run), s->options_.max_batch_tokens,
                                           s->options_.max_queue, [metrics](const BatchStats& b) {
                                             metrics->record_batch(b.sequences, b.tokens, b.computed, b.generated, b.seconds);
                                             metrics->set_kept_prefix_bytes(b.kept_bytes);
                                           });
  s->install_routes();
  return s;
}

Server::Server() = default;

Server::~Server() {
  stop();
  queue_.reset();  // finishes queued work, joins the worker
}

Result<int> Server::bind() { return http_->bind(); }

Status Server::serve(const std::function<void(int http_threads)>& on_ready) {
  ARB_TRY(http_->serve(on_ready));
  // serve() returns once every request being handled has been answered; the batching worker has nothing
  // left for them, so stopping it now loses nothing.
  queue_->stop();
  return Status::ok();
}

void Server::stop() {
  stopping_ = true;
  // The HTTP layer first: an answer written from here on says Connection: close. Then requests waiting
  // for room in the queue are answered 503 now, not when their wait ends.
  if (http_) http_->stop();
  if (queue_) queue_->close_admission();
}

namespace {

// Methods no route takes, and a POST without a body (HTTP/1.1 reads it as empty): answered by the request
// line and headers. (The HTTP layer refuses what it cannot frame: chunked bodies, a Content-Length that is
// not one number, one over --max-body-bytes.) True when it has answered the request.
bool refuse_by_headers(const HttpRequest& req, HttpResponse& res) {
  if (req.method != "GET" && req.method != "POST" && req.method != "HEAD") {
    send_error(res, 405, "method " + req.method + " is not served (GET or POST)");
    return true;
  }
  if (req.method == "POST" && !req.has_header("Content-Length")) {
    send_error(res, 400, "the request has no body (no Content-Length): send a JSON object");
    return true;
  }
  // A compressed body would be read as its compressed bytes (invalid UTF-8 at best).
  if (const std::string encoding = req.method == "POST" ? ascii_lower(req.header("Content-Encoding")) : "";
      !encoding.empty() && encoding != "identity") {
    send_error(res, 415, "Content-Encoding '" + encoding + "' is not read here: send the body uncompressed");
    return true;
  }
  return false;
}

}  // namespace

void Server::install_routes() {
  HttpServerOptions http;
  http.host = options_.host;
  http.port = options_.port;
  http.threads = options_.http_threads;
  http.limits.max_body_bytes = uint64_t(options_.max_body_bytes);
  // Room for a few whole requests of the largest size, whatever the limit.
  http.max_buffered_bytes = std::max(http.max_buffered_bytes, size_t(4 * (http.limits.max_body_bytes + http.limits.max_head_bytes)));
  http.header_timeout_ms = options_.header_timeout_ms;
  // A liveness probe or a metrics scrape must answer while every handler thread waits on model work.
  http.answer_inline = [](const HttpRequest& req) {
    return (req.method == "GET" || req.method == "HEAD") && (req.path == "/health" || req.path == "/metrics");
  };
  http_ = std::make_unique<HttpServer>(
      http, [this](const HttpRequest& req, HttpResponse& res) { handle(req, res); },
      [](HttpResponse& res, int status, const std::string& message) { send_error(res, status, message); },
      [this](const HttpRequest& req, const HttpResponse& res) {
        const RequestContext ctx = t_request;
        t_request = RequestContext{};
        const double seconds = ctx.active ? std::chrono::duration<double>(Clock::now() - ctx.start).count() : 0.0;
        const std::string route = route_label(req.path);
        metrics_->record_request(route, res.status, seconds);
        if (res.status >= 400) metrics_->record_error(route, error_type_for(res.status));
        // A request refused before its request line was read has no method or path: '-' stands for them.
        if (options_.log_requests)
          std::fprintf(stderr, "serve: %s %s %d %.1f ms items=%lld tokens=%lld\n",
                       req.method.empty() ? "-" : req.method.c_str(), req.path.empty() ? "-" : req.path.c_str(),
                       res.status, seconds * 1e3, (long long)ctx.items, (long long)ctx.tokens);
      });

  // Runs a prepared request through the batch queue; false when `res` already holds the error.
  auto execute = [this](const HttpRequest& req, Prepared& prepared, std::vector<SequenceOutput>& outputs,
                        HttpResponse& res) -> bool {
    // A request read before a stop is in flight: it is run (the batching worker stops only after every
    // handler has answered).
    t_request.tokens = prepared.tokens;
    auto ticket = std::make_shared<Ticket>();
    ticket->sequences = std::move(prepared.sequences);
    std::future<Status> done = ticket->completion.get_future();
    const auto deadline = t_request.start + std::chrono::milliseconds(options_.timeout_ms);
    const auto arrived_at_queue = Clock::now();
    const auto admit_until = std::min(deadline, arrived_at_queue + std::chrono::milliseconds(options_.queue_wait_ms));
    switch (queue_->submit(ticket, admit_until, req.client_gone)) {
      case SubmitError::kNone: break;
      case SubmitError::kTooLarge:
        send_error(res, 413, std::to_string(ticket->sequences.size()) + " sequences in one request, more than the queue holds (--max-queue " +
                                 std::to_string(queue_->max_queue()) + ")");
        return false;
      case SubmitError::kQueueFull: {
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - arrived_at_queue).count();
        if (admit_until == deadline && options_.queue_wait_ms > 0) {
          send_error(res, 504, "the request did not finish within " + std::to_string(options_.timeout_ms) +
                                   " ms (--timeout-ms): it waited " + std::to_string(waited) + " ms for room in the full queue");
          return false;
        }
        res.set_header("Retry-After", "1");
        send_error(res, 429, "the queue is full (" + std::to_string(queue_->max_queue()) + " sequences)" +
                                 (waited > 0 ? " and stayed full for " + std::to_string(waited) + " ms (--queue-wait-ms)" : "") +
                                 "; retry later");
        return false;
      }
      case SubmitError::kGone:
        res.close = true;
        send_error(res, 499, "the client closed the connection while its request waited for room; it was cancelled");
        return false;
      case SubmitError::kStopping:
        send_error(res, 503, "the server is shutting down");
        return false;
    }
    // Waited for in short steps: a client that has gone (a trainer whose own timeout passed) has its work
    // dropped rather than run for no one while live requests wait behind it.
    for (;;) {
      const auto step = std::min(deadline, Clock::now() + std::chrono::milliseconds(100));
      if (done.wait_until(step) == std::future_status::ready) break;
      if (req.client_gone && req.client_gone()) {
        queue_->abandon(*ticket);
        res.close = true;
        send_error(res, 499, "the client closed the connection; its request was cancelled");
        return false;
      }
      if (step == deadline) {
        queue_->abandon(*ticket);
        send_error(res, 504, "the request did not finish within " + std::to_string(options_.timeout_ms) +
                                 " ms (--timeout-ms) and was cancelled");
        return false;
      }
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
  auto wrong_mode = [mode](HttpResponse& res, const char* route, Mode needed) {
    if (mode == needed) return false;
    send_error(res, 404, std::string(route) + " is served in --mode " + mode_name(needed) + "; this server runs --mode " +
                             mode_name(mode));
    return true;
  };
  // Parse, prepare, run, answer: the shape every model route shares.
  using Exec = std::function<bool(Prepared&, std::vector<SequenceOutput>&, HttpResponse&)>;
  auto model_route = [this, execute, wrong_mode](const char* route, Mode needed, auto handle) {
    routes_[route].post = [this, route, needed, execute, wrong_mode, handle](const HttpRequest& req, HttpResponse& res) {
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
      const Exec exec = [&req, &execute](Prepared& prepared, std::vector<SequenceOutput>& outputs, HttpResponse& r) {
        return execute(req, prepared, outputs, r);
      };
      auto result = handle(*body, exec, res);
      if (!result) return;  // handle has answered with an error
      send_json(res, 200, *result);
    };
  };
  // A handler returns the response body, or nullopt after writing an error into res.
  auto reply = [](HttpResponse& res, Result<json> r, int status_on_error) -> std::optional<json> {
    if (!r) {
      send_error(res, status_on_error, r.message());
      return std::nullopt;
    }
    return std::move(r).value();
  };

  model_route("/v1/score", Mode::kReward, [this, reply](const json& body, const Exec& exec, HttpResponse& res) -> std::optional<json> {
    auto request = parse_score_request(body);
    if (!request) return reply(res, request.status(), 400);
    t_request.items = int64_t(request->items.size());
    auto prepared = service_->prepare_examples(request->items, body.contains("pairs") ? "pairs" : body.contains("conversations") ? "conversations" : "input_ids");
    if (!prepared) return reply(res, prepared.status(), 400);
    std::vector<SequenceOutput> outputs;
    if (!exec(*prepared, outputs, res)) return std::nullopt;
    return reply(res, service_->score_response(request->items, *prepared, outputs), 500);
  });
  model_route("/v1/judge", Mode::kJudge, [this, reply](const json& body, const Exec& exec, HttpResponse& res) -> std::optional<json> {
    auto request = parse_judge_request(body);
    if (!request) return reply(res, request.status(), 400);
    t_request.items = int64_t(request->items.size());
    auto prepared = service_->prepare_examples(request->items, "items");
    if (!prepared) return reply(res, prepared.status(), 400);
    std::vector<SequenceOutput> outputs;
    if (!exec(*prepared, outputs, res)) return std::nullopt;
    return reply(res, service_->judge_response(*request, *prepared, outputs), 500);
  });
  model_route("/get_reward", Mode::kReward, [this, reply](const json& body, const Exec& exec, HttpResponse& res) -> std::optional<json> {
    auto request = parse_reward_request(body);
    if (!request) return reply(res, request.status(), 400);
    t_request.items = int64_t(request->queries.size());
    auto prepared = service_->prepare_queries(*request);
    if (!prepared) return reply(res, prepared.status(), 400);
    std::vector<SequenceOutput> outputs;
    if (!exec(*prepared, outputs, res)) return std::nullopt;
    // A multi-output head without weights was refused before the model ran (prepare_queries): what fails
    // here is the model's own (a non-finite score), a server error.
    return reply(res, service_->reward_response(*prepared, outputs), 500);
  });
  for (const char* route : {"/classify", "/v1/classify", "/pooling"}) {
    const bool classify = std::string(route) != "/pooling";
    model_route(route, Mode::kReward, [this, reply, classify](const json& body, const Exec& exec, HttpResponse& res) -> std::optional<json> {
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

  routes_["/health"].get = [this](const HttpRequest&, HttpResponse& res) {
    json body = {{"status", stopping_ ? "stopping" : "ok"}, {"model", service_->model_name()},
                 {"mode", mode_name(service_->mode())}, {"queue_depth", queue_->queued_sequences()}};
    send_json(res, stopping_ ? 503 : 200, body);
  };
  routes_["/v1/models"].get = [this](const HttpRequest&, HttpResponse& res) {
    send_json(res, 200, json{{"object", "list"}, {"data", json::array({service_->describe()})}});
  };
  routes_["/metrics"].get = [this](const HttpRequest&, HttpResponse& res) {
    res.status = 200;
    res.content_type = "text/plain; version=0.0.4";
    res.body = metrics_->render(queue_->queued_sequences());
  };
}

void Server::handle(const HttpRequest& req, HttpResponse& res) {
  t_request = RequestContext{true, req.received, 0, 0};
  if (refuse_by_headers(req, res)) return;
  if (req.path != "/health" && !options_.api_key.empty() && !bearer_token_matches(req.header("Authorization"), options_.api_key)) {
    res.set_header("WWW-Authenticate", "Bearer");
    return send_error(res, 401, "missing or wrong API key (send 'Authorization: Bearer <key>')");
  }
  const auto route = routes_.find(req.path);
  if (route == routes_.end()) return send_error(res, 404, "no such route");
  const Route::Handler& handler = req.method == "POST" ? route->second.post : route->second.get;
  if (!handler)
    return send_error(res, 405, "method " + req.method + " is not served on " + req.path + " (" +
                                    (route->second.post ? "POST" : "GET") + ")");
  handler(req, res);
}

}  // namespace arbiter::serve

// HTTP/1.1 messages as the server reads and writes them (RFC 9112): a request's head parsed from the bytes
// a connection has buffered (more may follow it: the next pipelined request), and a response written as
// one buffer. Only what a JSON API needs: Content-Length bodies (a chunked one is refused with 411), no
// trailers, no upgrades.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arbiter::serve {

struct HttpRequest {
  std::string method, target, path;  // path: the target up to '?'
  int version_minor = 1;             // HTTP/1.0 or HTTP/1.1
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in arrival order
  std::string body;
  std::chrono::steady_clock::time_point received;  // when the head was complete
  // While a handler thread answers it: whether the client has gone (closed its connection with nothing
  // sent after this request), so that work for it can be dropped. Unset: never.
  std::function<bool()> client_gone;

  // The first value of a header (names in any case), or "" without one.
  std::string header(std::string_view name) const;
  size_t header_count(std::string_view name) const;
  bool has_header(std::string_view name) const { return header_count(name) > 0; }
  // Whether the client keeps the connection after this request: HTTP/1.1 unless `Connection: close`,
  // HTTP/1.0 only with `Connection: keep-alive`.
  bool keep_alive() const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type/-Length and Connection
  std::string body;
  bool close = false;  // close the connection after this answer

  void set_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
  bool has_header(std::string_view name) const;
};

struct HttpLimits {
  size_t max_request_line = 8 << 10;  // longer: 414
  size_t max_head_bytes = 64 << 10;   // request line and headers; more: 431
  size_t max_headers = 256;           // more: 431
  uint64_t max_body_bytes = 8 << 20;  // a larger Content-Length: 413, the body left unread
};

// A request head found at the start of a connection's buffer.
struct RequestHead {
  enum class State { kIncomplete, kComplete, kError } state = State::kIncomplete;
  HttpRequest request;        // method, target, path, version, headers (body empty)
  size_t head_bytes = 0;      // where the body starts in the buffer
  uint64_t body_bytes = 0;    // its Content-Length (0 without one)
  bool expects_continue = false;  // `Expect: 100-continue`
  int error_status = 0;       // kError: the status to answer with (the connection is then closed)
  std::string error_message;
};

// Reads the head at the start of `buffer` (empty lines before it skipped, as RFC 9112 2.2 allows). An
// error is any head that cannot be framed safely: a malformed line, too long a target or head, a
// version other than 1.0/1.1, a Transfer-Encoding, a Content-Length that is not one number, or one over
// the body limit.
RequestHead parse_request_head(std::string_view buffer, const HttpLimits& limits);

// The status line's reason phrase ("OK", "Not Found", ...).
const char* reason_phrase(int status);

// The response's bytes: status line, headers, body (none for a HEAD request), with Content-Length and
// `Connection: close` or keep-alive as `keep_alive` says.
std::string serialize_response(const HttpResponse& response, bool keep_alive, bool head_only);

}  // namespace arbiter::serve

#include "serve/http_message.h"

#include <algorithm>

#include "core/ascii.h"

namespace arbiter::serve {

namespace {

std::string lower(std::string_view text) { return ascii_lower(std::string(text)); }

bool is_token_char(char c) {
  // RFC 9110 5.6.2 tchar.
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) { return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char); }

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

RequestHead failed(int status, std::string message) {
  RequestHead head;
  head.state = RequestHead::State::kError;
  head.error_status = status;
  head.error_message = std::move(message);
  return head;
}

// The end of the head (after its blank line) in `text`, or npos; lines may end in CRLF or a bare LF.
size_t head_end(std::string_view text) {
  for (size_t at = text.find('\n'); at != std::string_view::npos; at = text.find('\n', at + 1)) {
    if (at + 1 < text.size() && text[at + 1] == '\n') return at + 2;
    if (at + 2 < text.size() && text[at + 1] == '\r' && text[at + 2] == '\n') return at + 3;
  }
  return std::string_view::npos;
}

// The next line of `text` from `at` (without its CR LF), moving `at` past it.
std::string_view next_line(std::string_view text, size_t& at) {
  const size_t end = text.find('\n', at);
  std::string_view line = text.substr(at, end - at);
  at = end == std::string_view::npos ? text.size() : end + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

std::string HttpRequest::header(std::string_view name) const {
  const std::string key = lower(name);
  for (const auto& [n, v] : headers)
    if (n == key) return v;
  return "";
}

size_t HttpRequest::header_count(std::string_view name) const {
  const std::string key = lower(name);
  return size_t(std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return h.first == key; }));
}

bool HttpRequest::keep_alive() const {
  // Every Connection line's comma-separated options (RFC 9110 7.6.1), as whole tokens.
  bool close = false, keep = false;
  for (const auto& [name, value] : headers) {
    if (name != "connection") continue;
    std::string_view options = value;
    while (!options.empty()) {
      const size_t comma = options.find(',');
      const std::string option = lower(trimmed(options.substr(0, comma)));
      close = close || option == "close";
      keep = keep || option == "keep-alive";
      options = comma == std::string_view::npos ? std::string_view() : options.substr(comma + 1);
    }
  }
  if (close) return false;
  return version_minor >= 1 || keep;
}

bool HttpResponse::has_header(std::string_view name) const {
  const std::string key = lower(name);
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return lower(h.first) == key; });
}

RequestHead parse_request_head(std::string_view buffer, const HttpLimits& limits) {
  size_t start = 0;
  while (start < buffer.size() && (buffer[start] == '\r' || buffer[start] == '\n')) ++start;
  const std::string_view text = buffer.substr(start);
  const size_t end = head_end(text);
  const size_t first_line_end = text.find('\n');
  const size_t line_length = first_line_end == std::string_view::npos ? text.size() : first_line_end;
  if (line_length > limits.max_request_line) return failed(414, "the request line is longer than " + std::to_string(limits.max_request_line) + " bytes");
  // Empty lines before the request line count against the head's limit: they cannot pile up.
  if (start + (end == std::string_view::npos ? text.size() : end) > limits.max_head_bytes)
    return failed(431, "the request's headers are larger than " + std::to_string(limits.max_head_bytes) + " bytes");
  if (end == std::string_view::npos) return RequestHead{};

  RequestHead head;
  HttpRequest& request = head.request;
  size_t at = 0;
  const std::string_view request_line = next_line(text, at);
  const size_t sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return failed(400, "a malformed request line");
  request.method = std::string(request_line.substr(0, sp1));
  request.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
  const std::string_view version = request_line.substr(sp2 + 1);
  // A target holds no spaces and no control bytes (a NUL would cut the path short where it is printed).
  const bool control_byte = std::any_of(request.target.begin(), request.target.end(),
                                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  if (!is_token(request.method) || request.target.empty() || request.target.find(' ') != std::string::npos || control_byte)
    return failed(400, "a malformed request line");
  if (version == "HTTP/1.1") request.version_minor = 1;
  else if (version == "HTTP/1.0") request.version_minor = 0;
  else if (version.starts_with("HTTP/")) return failed(505, "HTTP version " + std::string(version.substr(5)) + " is not served (1.1 or 1.0)");
  else return failed(400, "a malformed request line");
  // The absolute form (http://host/path), as a proxy sends it, names the same path.
  std::string_view target = request.target;
  if (target.starts_with("http://") || target.starts_with("https://")) {
    const size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  request.path = std::string(target.substr(0, target.find('?')));

  for (;;) {
    const std::string_view line = next_line(text, at);
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') return failed(400, "a folded header line (obsolete line folding)");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return failed(400, "a malformed header line");
    if (request.headers.size() >= limits.max_headers)
      return failed(431, "more than " + std::to_string(limits.max_headers) + " header lines");
    request.headers.emplace_back(lower(line.substr(0, colon)), std::string(trimmed(line.substr(colon + 1))));
  }
  head.head_bytes = start + end;

  // Framing (RFC 9112 6): a body this server would mis-frame is refused, and the connection then closed.
  // The request read so far stays in the answer's log line.
  auto refused = [&](int status, std::string message) {
    RequestHead out = failed(status, std::move(message));
    out.request = std::move(request);
    return out;
  };
  // Every Transfer-Encoding line counts (RFC 9112 6.1 reads them as one list): 'identity' and then
  // 'chunked' is a chunked body, which a server reading the first line alone would frame otherwise.
  for (const auto& [name, value] : request.headers)
    if (name == "transfer-encoding" && lower(value) != "identity")
      return refused(411, "send the body with a Content-Length (a '" + value + "' body is not taken)");
  if (request.has_header("content-length")) {
    const std::string length = request.header("content-length");
    for (const auto& [name, value] : request.headers)
      if (name == "content-length" && value != length) return refused(400, "the request has two Content-Length headers that differ");
    if (length.empty() || length.size() > 19 || length.find_first_not_of("0123456789") != std::string::npos)
      return refused(400, "Content-Length '" + length + "' is not a number of bytes");
    head.body_bytes = std::stoull(length);
    if (head.body_bytes > limits.max_body_bytes)
      return refused(413, "the request body of " + std::to_string(head.body_bytes) + " bytes is larger than the limit of " +
                              std::to_string(limits.max_body_bytes) + " (--max-body-bytes)");
  }
  head.expects_continue = request.version_minor >= 1 && lower(request.header("expect")) == "100-continue";
  head.state = RequestHead::State::kComplete;
  return head;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

std::string serialize_response(const HttpResponse& response, bool keep_alive, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
  if (!response.body.empty() || !response.content_type.empty()) out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (!head_only) out += response.body;
  return out;
}

}  // namespace arbiter::serve

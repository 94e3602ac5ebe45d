// libFuzzer target: a connection's buffer as the server's HTTP layer reads it, request after request
// (pipelined). Parsing must never crash, and what it accepts must frame: a head that ends inside the
// buffer, a body within the limit, a method and a path.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "serve/http_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace arbiter::serve;
  HttpLimits limits;
  limits.max_body_bytes = 1 << 12;
  limits.max_head_bytes = 1 << 12;
  std::string_view buffer(reinterpret_cast<const char*>(data), size);
  // Each complete request is taken off the front, as the server does, until one is incomplete or refused.
  for (int requests = 0; requests < 64; ++requests) {
    const RequestHead head = parse_request_head(buffer, limits);
    if (head.state == RequestHead::State::kError) {
      if (head.error_status < 400 || head.error_status > 505 || head.error_message.empty()) __builtin_trap();
      return 0;
    }
    if (head.state == RequestHead::State::kIncomplete) return 0;
    if (head.head_bytes == 0 || head.head_bytes > buffer.size()) __builtin_trap();
    if (head.body_bytes > limits.max_body_bytes) __builtin_trap();
    if (head.request.method.empty() || head.request.target.empty()) __builtin_trap();
    const uint64_t whole = head.head_bytes + head.body_bytes;
    if (whole > buffer.size()) return 0;  // the body has not all arrived
    (void)serialize_response(HttpResponse{}, head.request.keep_alive(), head.request.method == "HEAD");
    buffer.remove_prefix(size_t(whole));
  }
  return 0;
}

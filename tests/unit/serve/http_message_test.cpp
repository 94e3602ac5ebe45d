// Request heads as the server reads them from a connection's buffer (RFC 9112): where a head ends and its
// body begins, what cannot be framed safely (refused with the status the RFC names), and answers as one
// buffer.
#include "serve/http_message.h"

#include <gtest/gtest.h>

namespace arbiter::serve {
namespace {

using State = RequestHead::State;

TEST(HttpMessage, AHeadEndsAtItsBlankLineAndTheNextRequestStaysInTheBuffer) {
  const std::string first = "POST /v1/score?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nX-Key:  spaced value \r\n\r\n{}";
  const std::string buffer = "\r\n" + first + "GET /health HTTP/1.1\r\n\r\n";
  const RequestHead head = parse_request_head(buffer, HttpLimits{});
  ASSERT_EQ(head.state, State::kComplete) << head.error_message;
  EXPECT_EQ(head.request.method, "POST");
  EXPECT_EQ(head.request.target, "/v1/score?x=1");
  EXPECT_EQ(head.request.path, "/v1/score");
  EXPECT_EQ(head.request.header("x-KEY"), "spaced value");
  EXPECT_EQ(head.request.header("content-length"), "2");
  EXPECT_EQ(head.body_bytes, 2u);
  EXPECT_EQ(head.head_bytes, 2 + first.size() - 2);  // the leading blank line counts; the body follows
  EXPECT_EQ(buffer.substr(head.head_bytes, 2), "{}");
  // The pipelined request after the body is a head of its own.
  const RequestHead next = parse_request_head(std::string_view(buffer).substr(head.head_bytes + 2), HttpLimits{});
  ASSERT_EQ(next.state, State::kComplete);
  EXPECT_EQ(next.request.path, "/health");
  EXPECT_EQ(next.body_bytes, 0u);
}

TEST(HttpMessage, IncompleteUntilTheBlankLineBareLineFeedsToo) {
  EXPECT_EQ(parse_request_head("GET /health HTTP/1.1\r\nHost: a\r\n", HttpLimits{}).state, State::kIncomplete);
  EXPECT_EQ(parse_request_head("", HttpLimits{}).state, State::kIncomplete);
  const RequestHead lf = parse_request_head("GET /health HTTP/1.0\nHost: a\n\n", HttpLimits{});
  ASSERT_EQ(lf.state, State::kComplete);
  EXPECT_EQ(lf.request.version_minor, 0);
  EXPECT_FALSE(lf.request.keep_alive());
  const RequestHead absolute = parse_request_head("GET http://example.com/v1/models HTTP/1.1\r\n\r\n", HttpLimits{});
  ASSERT_EQ(absolute.state, State::kComplete);
  EXPECT_EQ(absolute.request.path, "/v1/models");
}

TEST(HttpMessage, KeepAliveFollowsTheVersionAndConnectionHeader) {
  auto keep = [](const std::string& head) { return parse_request_head(head + "\r\n", HttpLimits{}).request.keep_alive(); };
  EXPECT_TRUE(keep("GET / HTTP/1.1\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nConnection: Close\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.0\r\n"));
  EXPECT_TRUE(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"));
  // Every Connection line counts, as whole comma-separated options.
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nConnection: Upgrade, Close\r\n"));
  EXPECT_TRUE(keep("GET / HTTP/1.1\r\nConnection: closed-captions\r\n"));
  EXPECT_TRUE(keep("GET / HTTP/1.0\r\nConnection: TE, Keep-Alive\r\n"));
}

TEST(HttpMessage, WhatCannotBeFramedIsRefusedWithItsStatus) {
  HttpLimits limits;
  limits.max_body_bytes = 100;
  limits.max_request_line = 64;
  limits.max_head_bytes = 256;
  limits.max_headers = 4;
  const struct {
    std::string head;
    int status;
    std::string fragment;
  } cases[] = {
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411, "Content-Length"},
      // Every Transfer-Encoding line counts: 'identity' first does not hide a chunked body.
      {"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 411,
       "'chunked' body"},
      {"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413, "of 101 bytes is larger than the limit of 100 (--max-body-bytes)"},
      {std::string("GET /a\0b HTTP/1.1\r\n\r\n", 22), 400, "malformed request line"},  // a control byte in the target
      {"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, "'-5' is not a number of bytes"},
      {"POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n", 400, "not a number of bytes"},
      {"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400, "two Content-Length headers that differ"},
      {"GET /" + std::string(80, 'a') + " HTTP/1.1\r\n\r\n", 414, "request line"},
      {"GET / HTTP/1.1\r\nX: " + std::string(300, 'b') + "\r\n\r\n", 431, "headers are larger"},
      {"GET / HTTP/1.1\r\nX: " + std::string(300, 'b'), 431, "headers are larger"},  // before its end comes
      {"GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n", 431, "more than 4 header lines"},
      {"GET / HTTP/2.0\r\n\r\n", 505, "HTTP version 2.0"},
      {"GET /\r\n\r\n", 400, "malformed request line"},
      {"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400, "malformed header line"},
      {"GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n", 400, "folded"},
      {"G(T / HTTP/1.1\r\n\r\n", 400, "malformed request line"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.head.substr(0, 60));
    const RequestHead head = parse_request_head(c.head, limits);
    ASSERT_EQ(head.state, State::kError);
    EXPECT_EQ(head.error_status, c.status);
    EXPECT_NE(head.error_message.find(c.fragment), std::string::npos) << head.error_message;
  }
  // Empty lines before a request count against the head's limit.
  const RequestHead blank_flood = parse_request_head(std::string(300, '\n'), limits);
  ASSERT_EQ(blank_flood.state, State::kError);
  EXPECT_EQ(blank_flood.error_status, 431);
  // A refused head keeps what was read of the request, for the answer's log line.
  const RequestHead chunked = parse_request_head("POST /v1/score HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", limits);
  EXPECT_EQ(chunked.request.path, "/v1/score");
  const RequestHead expects = parse_request_head("POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", limits);
  ASSERT_EQ(expects.state, State::kComplete);
  EXPECT_TRUE(expects.expects_continue);
}

TEST(HttpMessage, AnAnswerIsOneBufferWithItsLength) {
  HttpResponse response;
  response.status = 429;
  response.body = R"({"error": {}})";
  response.set_header("Retry-After", "1");
  const std::string kept = serialize_response(response, true, false);
  EXPECT_EQ(kept, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: 13\r\n"
                  "Connection: keep-alive\r\nRetry-After: 1\r\n\r\n{\"error\": {}}");
  const std::string head_only = serialize_response(response, false, true);
  EXPECT_NE(head_only.find("Content-Length: 13\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_TRUE(head_only.ends_with("\r\n\r\n"));
}

}  // namespace
}  // namespace arbiter::serve

// Requests whose framing cannot be trusted, or that no route takes, are answered at once, by their headers:
// a body over the limit by its Content-Length, a chunked body, a POST without a body, a Content-Length that
// is no number of bytes or two that differ, a method no route takes. A body typed as a form (curl -d's
// default) is read as the JSON it is, whatever its size.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "serve_helpers.h"

namespace arbiter::testing {
namespace {

using nlohmann::json;

// Sends `request` as it is and reads until the server closes or 10 s pass; the status code and the time.
struct RawAnswer {
  int status = -1;
  std::string text;
  double seconds = 0;
};

RawAnswer send_raw(int port, const std::string& request) {
  RawAnswer answer;
  const auto start = std::chrono::steady_clock::now();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return answer;
  (void)!::write(fd, request.data(), request.size());
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const double left = 10.0 - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (left <= 0 || ::poll(&p, 1, int(left * 1000)) <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    answer.text.append(buf, size_t(n));
    // One answer is enough: its headers and the body its Content-Length gives.
    const size_t head_end = answer.text.find("\r\n\r\n");
    const size_t length_at = answer.text.find("Content-Length: ");
    if (head_end != std::string::npos && length_at != std::string::npos &&
        answer.text.size() >= head_end + 4 + std::stoul(answer.text.substr(length_at + 16)))
      break;
  }
  ::close(fd);
  answer.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (answer.text.rfind("HTTP/1.1 ", 0) == 0) answer.status = std::stoi(answer.text.substr(9, 3));
  return answer;
}

TEST(Framing, AnsweredByTheHeadersAtOnce) {
  auto model = load_model(kSeqCls5);
  ASSERT_TRUE(model.is_ok()) << model.message();
  serve::ServiceOptions service;
  service.mode = serve::Mode::kReward;
  service.model_name = "rm";
  serve::ServerOptions options;
  options.max_body_bytes = 100000;
  auto s = start_server(std::shared_ptr<const Model>(*model), service, options);
  ASSERT_TRUE(s);
  const std::string valid = R"({"pairs": [{"prompt": "Hello there", "response": "General Kenobi"}]})";
  int status = 0;
  const json reference = post_json(*s, "/v1/score", valid, &status);
  ASSERT_EQ(status, 200);

  struct Case {
    std::string name, request;
    int status;
    std::string fragment;
  };
  const std::string host = "Host: 127.0.0.1\r\n";
  const std::vector<Case> cases = {
      {"over the limit by Content-Length", "POST /v1/score HTTP/1.1\r\n" + host + "Content-Length: 99999999999\r\n\r\nx", 413,
       "--max-body-bytes"},
      {"chunked", "POST /v1/score HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411,
       "Content-Length"},
      {"no body", "POST /v1/score HTTP/1.1\r\n" + host + "\r\n", 400, "no body"},
      {"negative length", "POST /v1/score HTTP/1.1\r\n" + host + "Content-Length: -5\r\n\r\n{}", 400,
       "Content-Length '-5' is not a number of bytes"},
      {"two lengths", "POST /v1/score HTTP/1.1\r\n" + host + "Content-Length: 2\r\nContent-Length: 70\r\n\r\n" + valid,
       400, "two Content-Length headers that differ"},
      {"PUT", "PUT /v1/score HTTP/1.1\r\n" + host + "Content-Length: 2\r\n\r\n{}", 405, "method PUT"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const RawAnswer answer = send_raw(s->port, c.request);
    EXPECT_EQ(answer.status, c.status) << answer.text;
    EXPECT_NE(answer.text.find(c.fragment), std::string::npos) << answer.text;
    EXPECT_LT(answer.seconds, 5.0);
  }

  // A form-typed body (curl -d's default) of more than 8 KiB is read as JSON and scored as the JSON one is.
  json padded = json::parse(valid);
  padded["padding"] = std::string(20000, 'y');
  auto client = s->client();
  auto form = client.Post("/v1/score", padded.dump(), "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 200) << form->body;
  EXPECT_EQ(json::parse(form->body)["data"], reference["data"]);
}

}  // namespace
}  // namespace arbiter::testing

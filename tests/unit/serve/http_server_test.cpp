// The HTTP layer alone, with an echoing handler: requests over the memory bound wait for room, and those
// that cannot finish are answered 408 when their deadline comes, so many large uploads at once cannot
// exhaust memory; the server still takes new requests once room is freed.
#include "serve/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace arbiter::serve {
namespace {

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

std::string read_until_closed(int fd, double seconds) {
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, int(left)) <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, size_t(n));
  }
  return text;
}

TEST(HttpServer, UploadsOverTheMemoryBoundWaitAndTimeOut) {
  HttpServerOptions options;
  options.port = 0;
  options.threads = 2;
  options.max_buffered_bytes = 1000;
  options.body_timeout_ms = 1500;
  HttpServer server(
      options,
      [](const HttpRequest& req, HttpResponse& res) {
        res.content_type = "text/plain";
        res.body = req.method + " " + req.path + " " + std::to_string(req.body.size());
      },
      [](HttpResponse& res, int status, const std::string& message) {
        res.status = status;
        res.content_type = "text/plain";
        res.body = message;
      },
      nullptr);
  auto port = server.bind();
  ASSERT_TRUE(port.is_ok()) << port.message();
  std::thread serving([&] { (void)server.serve(); });

  // Two uploads whose bodies together are over the bound: neither can be read whole.
  std::vector<int> uploads;
  for (int i = 0; i < 2; ++i) {
    const int fd = connect_to(*port);
    ASSERT_GE(fd, 0);
    const std::string head = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n" + std::string(600, 'x');
    ASSERT_EQ(::write(fd, head.data(), head.size()), ssize_t(head.size()));
    uploads.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int fd : uploads) ASSERT_EQ(::write(fd, std::string(300, 'y').data(), 300), 300);
  // A small request once the uploads have timed out and freed their room: answered.
  const int small = connect_to(*port);
  ASSERT_GE(small, 0);
  const std::string get = "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(small, get.data(), get.size()), ssize_t(get.size()));
  const std::string small_answer = read_until_closed(small, 10);
  ::close(small);
  EXPECT_NE(small_answer.find("HTTP/1.1 200 OK"), std::string::npos) << small_answer;
  EXPECT_NE(small_answer.find("GET /small 0"), std::string::npos) << small_answer;
  int timed_out = 0, answered = 0;
  for (int fd : uploads) {
    const std::string answer = read_until_closed(fd, 10);
    ::close(fd);
    timed_out += answer.find("HTTP/1.1 408") != std::string::npos;
    answered += answer.find("POST /upload 900") != std::string::npos;
  }
  // At most one upload fits under the bound; whatever did not is answered 408, none is lost.
  EXPECT_EQ(timed_out + answered, 2);
  EXPECT_GE(timed_out, 1);
  server.stop();
  serving.join();
}

}  // namespace
}  // namespace arbiter::serve

// The HTTP layer alone, with an echoing handler: requests over the memory bound wait for room, and those
// that cannot finish are answered 408 when their deadline comes, so many large uploads at once cannot
// exhaust memory; the server still takes new requests once room is freed.
#include "serve/http_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "raw_socket.h"

namespace arbiter::serve {
namespace {

using arbiter::testing::connect_to;
using arbiter::testing::read_until_closed;

// Error answers as plain text: the layer's own answers (408, 413, ...) in the tests below.
void plain_error(HttpResponse& res, int status, const std::string& message) {
  res.status = status;
  res.content_type = "text/plain";
  res.body = message;
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
      plain_error, nullptr);
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

// serve() says when it is ready (after its handler threads run, before it takes connections), once, with
// the number of threads: what the command's "serving ..." line reports.
TEST(HttpServer, ServeSaysWhenItsThreadsRun) {
  HttpServerOptions options;
  options.port = 0;
  options.threads = 3;
  HttpServer server(
      options, [](const HttpRequest&, HttpResponse& res) { res.body = "ok"; },
      plain_error, nullptr);
  auto port = server.bind();
  ASSERT_TRUE(port.is_ok()) << port.message();
  std::atomic<int> ready_calls{0}, threads_reported{0};
  std::thread serving([&] {
    (void)server.serve([&](int threads) {
      threads_reported = threads;
      ++ready_calls;
    });
  });
  for (int waited = 0; ready_calls == 0 && waited < 1000; ++waited) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(ready_calls, 1);
  EXPECT_EQ(threads_reported, 3);
  const int fd = connect_to(*port);
  ASSERT_GE(fd, 0);
  const std::string get = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(fd, get.data(), get.size()), ssize_t(get.size()));
  const std::string answer = read_until_closed(fd, 10);
  ::close(fd);
  EXPECT_NE(answer.find("HTTP/1.1 200 OK"), std::string::npos) << answer;
  server.stop();
  serving.join();
  EXPECT_EQ(ready_calls, 1);
}

// Requests the server answers on its I/O thread (health probes, metrics scrapes) are answered while every
// handler thread is busy; pipelined behind others on one connection, they go to the handler threads like
// any request (a flood of them cannot hold the I/O thread), and all are answered, in order.
TEST(HttpServer, InlineRoutesAnswerWhileEveryHandlerIsBusy) {
  HttpServerOptions options;
  options.port = 0;
  options.threads = 1;
  options.answer_inline = [](const HttpRequest& req) { return req.path == "/health"; };
  std::mutex mutex;
  std::condition_variable released_cv;
  bool released = false;
  std::atomic<bool> slow_started{false};
  HttpServer server(
      options,
      [&](const HttpRequest& req, HttpResponse& res) {
        if (req.path == "/slow") {
          slow_started = true;
          std::unique_lock<std::mutex> lock(mutex);
          released_cv.wait(lock, [&] { return released; });
        }
        res.body = req.path;
      },
      plain_error, nullptr);
  auto port = server.bind();
  ASSERT_TRUE(port.is_ok()) << port.message();
  std::thread serving([&] { (void)server.serve(); });

  const int slow = connect_to(*port);
  ASSERT_GE(slow, 0);
  const std::string slow_request = "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(slow, slow_request.data(), slow_request.size()), ssize_t(slow_request.size()));
  for (int waited = 0; !slow_started && waited < 1000; ++waited) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(slow_started);

  for (int i = 0; i < 20; ++i) {
    const int probe = connect_to(*port);
    ASSERT_GE(probe, 0);
    const std::string get = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ASSERT_EQ(::write(probe, get.data(), get.size()), ssize_t(get.size()));
    const std::string answer = read_until_closed(probe, 10);
    ::close(probe);
    EXPECT_NE(answer.find("HTTP/1.1 200 OK"), std::string::npos) << answer;
  }
  // Pipelined: answered once a handler thread is free, all of them.
  const int pipelining = connect_to(*port);
  ASSERT_GE(pipelining, 0);
  std::string pipelined;
  for (int i = 0; i < 200; ++i) pipelined += "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  pipelined += "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(pipelining, pipelined.data(), pipelined.size()), ssize_t(pipelined.size()));

  {
    std::lock_guard<std::mutex> lock(mutex);
    released = true;
  }
  released_cv.notify_all();
  const std::string slow_answer = read_until_closed(slow, 10);
  ::close(slow);
  EXPECT_NE(slow_answer.find("/slow"), std::string::npos) << slow_answer;
  const std::string answers = read_until_closed(pipelining, 10);
  ::close(pipelining);
  size_t count = 0;
  for (size_t at = answers.find("HTTP/1.1 200 OK"); at != std::string::npos; at = answers.find("HTTP/1.1 200 OK", at + 1)) ++count;
  EXPECT_EQ(count, 201u);
  server.stop();
  serving.join();
}

// While a handler answers, it can ask whether the client is still there: a client that closed its
// connection is gone; one that waits, or has pipelined more, is not.
TEST(HttpServer, AHandlerSeesAClientThatHasGone) {
  HttpServerOptions options;
  options.port = 0;
  options.threads = 2;
  std::atomic<int> gone_seen{0}, still_there{0};
  HttpServer server(
      options,
      [&](const HttpRequest& req, HttpResponse& res) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(req.path == "/wait" ? 400 : 5000);
        while (std::chrono::steady_clock::now() < until) {
          if (req.client_gone && req.client_gone()) {
            ++gone_seen;
            res.body = "gone";
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ++still_there;
        res.body = "answered";
      },
      plain_error, nullptr);
  auto port = server.bind();
  ASSERT_TRUE(port.is_ok()) << port.message();
  std::thread serving([&] { (void)server.serve(); });

  // A client that waits for its answer is there all along.
  const int waiting = connect_to(*port);
  ASSERT_GE(waiting, 0);
  const std::string wait_request = "GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(waiting, wait_request.data(), wait_request.size()), ssize_t(wait_request.size()));
  const std::string answer = read_until_closed(waiting, 10);
  ::close(waiting);
  EXPECT_NE(answer.find("answered"), std::string::npos) << answer;
  EXPECT_EQ(still_there, 1);

  // One that sends its request and closes is seen gone, long before the handler's 5 s.
  const auto start = std::chrono::steady_clock::now();
  const int leaving = connect_to(*port);
  ASSERT_GE(leaving, 0);
  const std::string leave_request = "GET /leave HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::write(leaving, leave_request.data(), leave_request.size()), ssize_t(leave_request.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::close(leaving);
  for (int waited = 0; gone_seen == 0 && waited < 400; ++waited) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(gone_seen, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  server.stop();
  serving.join();
}

}  // namespace
}  // namespace arbiter::serve

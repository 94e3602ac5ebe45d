// An in-process server on 127.0.0.1 with an ephemeral port, for the serve tests.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <string>
#include <thread>

#include "serve/server.h"
#include "../../support/shared_dir.h"

namespace arbiter::testing {

inline const std::string kSeqCls5 = kShared + "/fixtures/hf/llama-seqcls5";
inline const std::string kSeqCls1 = kShared + "/fixtures/hf/llama-seqcls1";
inline const std::string kStories = kShared + "/models/stories260K/stories260K.gguf";

struct RunningServer {
  std::unique_ptr<serve::Server> server;
  std::thread thread;
  int port = 0;

  ~RunningServer() { shutdown(); }
  void shutdown() {
    if (!server) return;
    server->stop();
    if (thread.joinable()) thread.join();
    server.reset();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    return c;
  }
};

// Starts a server; fails the test (and returns null) when it cannot.
inline std::unique_ptr<RunningServer> start_server(std::shared_ptr<const Model> model, serve::ServiceOptions service,
                                                  serve::ServerOptions options = {}) {
  options.host = "127.0.0.1";
  options.port = 0;
  options.log_requests = false;
  auto server = serve::Server::create(std::move(model), std::move(service), options);
  EXPECT_TRUE(server.is_ok()) << server.message();
  if (!server) return nullptr;
  auto running = std::make_unique<RunningServer>();
  running->server = std::move(server).value();
  auto port = running->server->bind();
  EXPECT_TRUE(port.is_ok()) << port.message();
  if (!port) return nullptr;
  running->port = *port;
  serve::Server* raw = running->server.get();
  running->thread = std::thread([raw] { (void)raw->serve(); });
  return running;
}

inline nlohmann::json post_json(const RunningServer& s, const std::string& path, const std::string& body, int* status,
                                const httplib::Headers& headers = {}) {
  auto client = s.client();
  auto res = client.Post(path.c_str(), headers, body, "application/json");
  if (!res) {
    *status = -1;
    return nullptr;
  }
  *status = res->status;
  return nlohmann::json::parse(res->body, nullptr, false);
}

// The number a Prometheus counter line of `metrics` holds, or -1.
inline long long counter(const std::string& metrics, const std::string& name) {
  const size_t at = metrics.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stoll(metrics.substr(at + name.size() + 2));
}

}  // namespace arbiter::testing

#include "serve/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace arbiter::serve {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr Clock::duration kDrainTime = std::chrono::seconds(2);

// One client connection and what has been read from it.
struct Connection {
  int fd = -1;
  std::string buffer;  // bytes read and not yet taken by a request
  Clock::time_point idle_since;  // when it was last ready for a new request
  Clock::time_point first_byte;  // of the request being read (buffer not empty)
  bool head_read = false;
  RequestHead head;                // when head_read
  Clock::time_point head_time;     // when the head was complete
  bool continue_sent = false;
  bool close_after = false;        // the last answer closes it
  bool draining = false;           // answered for the last time: read and dropped until the client closes
  Clock::time_point drain_until;

  ~Connection() {
    if (fd >= 0) ::close(fd);
  }
};

// A whole request, with the connection it came on, for a handler thread.
struct Work {
  std::unique_ptr<Connection> connection;
  HttpRequest request;
};

// Writes all of `bytes`, waiting for the socket while the client reads (up to the deadline).
bool write_all(int fd, std::string_view bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, int(std::min<int64_t>(left, 1000))) < 0 && errno != EINTR) return false;
      continue;
    }
    return false;
  }
  return true;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK); }

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  ErrorBody error_body;
  Logger logger;
  std::atomic<bool>* stopping = nullptr;

  int listen_fd = -1;
  int wake_fd = -1;  // eventfd: handler threads and stop() wake the I/O thread

  std::vector<std::unique_ptr<Connection>> reading;  // owned by the I/O thread
  std::mutex mutex;
  std::condition_variable work_ready;
  std::deque<Work> work;                                // complete requests for the handler threads
  std::vector<std::unique_ptr<Connection>> returned;  // answered connections back to the I/O thread
  size_t with_handlers = 0;                           // connections out of `reading` (queued or handled)
  std::vector<std::thread> threads;

  void wake() const {
    const uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof one);
  }

  // --- handler threads ---

  void handler_loop() {
    for (;;) {
      Work item;
      {
        std::unique_lock<std::mutex> lock(mutex);
        work_ready.wait(lock, [&] { return !work.empty() || (*stopping && with_handlers == 0); });
        if (work.empty()) return;
        item = std::move(work.front());
        work.pop_front();
      }
      HttpResponse response;
      try {
        handler(item.request, response);
      } catch (const std::exception& e) {
        response = HttpResponse{};
        error_body(response, 500, std::string("internal error: ") + e.what());
      } catch (...) {
        response = HttpResponse{};
        error_body(response, 500, "internal error: unknown exception");
      }
      Connection& c = *item.connection;
      const bool keep = item.request.keep_alive() && !response.close && !*stopping;
      const std::string bytes = serialize_response(response, keep, item.request.method == "HEAD");
      const bool written = write_all(c.fd, bytes, Clock::now() + milliseconds(options.write_timeout_ms));
      if (logger) logger(item.request, response);
      c.close_after = !keep || !written;
      c.idle_since = Clock::now();
      {
        std::lock_guard<std::mutex> lock(mutex);
        returned.push_back(std::move(item.connection));
      }
      wake();
    }
  }

  void dispatch(std::unique_ptr<Connection> c, HttpRequest request) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      work.push_back(Work{std::move(c), std::move(request)});
      ++with_handlers;
    }
    work_ready.notify_one();
  }

  // --- the I/O thread ---

  // An answer the server gives itself (the request cannot be read, or took too long): written as far as
  // the socket takes it now, then the connection drains and closes.
  void refuse(Connection& c, const HttpRequest& request, int status, const std::string& message) {
    HttpResponse response;
    error_body(response, status, message);
    response.close = true;
    const std::string bytes = serialize_response(response, false, false);
    (void)write_all(c.fd, bytes, Clock::now() + milliseconds(200));
    if (logger) logger(request, response);
    start_draining(c);
  }

  // Closing a socket that still has unread bytes makes the kernel reset the connection, which can discard
  // the answer before the client reads it: shut the sending side, read until the client closes.
  void start_draining(Connection& c) {
    ::shutdown(c.fd, SHUT_WR);
    c.draining = true;
    c.drain_until = Clock::now() + kDrainTime;
    c.buffer.clear();
  }

  enum class Next { kKeep, kDispatched, kClose };

  // Takes what the buffer holds: nothing yet, a head (checked), a whole request (to a handler thread).
  Next advance(std::unique_ptr<Connection>& c) {
    if (c->draining) return Next::kKeep;
    if (c->buffer.empty()) return Next::kKeep;
    if (!c->head_read) {
      RequestHead head = parse_request_head(c->buffer, options.limits);
      if (head.state == RequestHead::State::kIncomplete) return Next::kKeep;
      if (head.state == RequestHead::State::kError) {
        refuse(*c, head.request, head.error_status, head.error_message);
        return Next::kKeep;
      }
      c->head = std::move(head);
      c->head_read = true;
      c->head_time = Clock::now();
      c->head.request.received = c->head_time;
    }
    const uint64_t whole = c->head.head_bytes + c->head.body_bytes;
    if (c->buffer.size() < whole) {
      if (c->head.expects_continue && !c->continue_sent) {
        c->continue_sent = true;
        (void)write_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", Clock::now() + milliseconds(200));
      }
      return Next::kKeep;
    }
    HttpRequest request = std::move(c->head.request);
    request.body = c->buffer.substr(c->head.head_bytes, c->head.body_bytes);
    c->buffer.erase(0, whole);
    c->head = RequestHead{};
    c->head_read = false;
    c->continue_sent = false;
    if (!c->buffer.empty()) c->first_byte = Clock::now();  // the next request has begun
    dispatch(std::move(c), std::move(request));
    return Next::kDispatched;
  }

  // Reads what the socket has; false when the connection is finished (closed, reset, or drained).
  bool read_available(Connection& c) {
    char chunk[64 << 10];
    for (;;) {
      const ssize_t n = ::recv(c.fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        if (c.draining) continue;
        if (c.buffer.empty()) c.first_byte = Clock::now();
        c.buffer.append(chunk, size_t(n));
        // A request never needs more than its head and body: stop reading ahead of it.
        if (c.buffer.size() > options.limits.max_head_bytes + options.limits.max_body_bytes) return true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        // ACK at once what was read: a client that writes its headers and body apart without TCP_NODELAY
        // (cpp-httplib's client, many others) holds the body back until its headers are acknowledged, and a
        // delayed ACK would add about 40 ms to every request after a connection's first. (Linux resets
        // quick-ack mode by itself, so it is asked for after each read.)
        const int yes = 1;
        ::setsockopt(c.fd, IPPROTO_TCP, TCP_QUICKACK, &yes, sizeof yes);
        return true;
      }
      return false;  // 0: the client closed; < 0: reset
    }
  }

  // The time by which the connection must make progress, and what happens then.
  Clock::time_point deadline(const Connection& c) const {
    if (c.draining) return c.drain_until;
    if (c.head_read) return c.head_time + milliseconds(options.body_timeout_ms);
    if (!c.buffer.empty()) return c.first_byte + milliseconds(options.header_timeout_ms);
    return c.idle_since + milliseconds(options.idle_timeout_ms);
  }

  // False when the connection is finished.
  bool check_deadline(Connection& c, Clock::time_point now) {
    if (now < deadline(c)) return true;
    if (c.draining || (c.buffer.empty() && !c.head_read)) return false;  // idle, or drained long enough
    refuse(c, c.head_read ? c.head.request : HttpRequest{}, 408, c.head_read ? "the request body did not arrive within " + std::to_string(options.body_timeout_ms) + " ms"
                               : "the request's headers did not arrive within " + std::to_string(options.header_timeout_ms) + " ms");
    return true;
  }

  void accept_all() {
    while (reading.size() + with_handlers_now() < options.max_connections) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN: none left; others (EMFILE, ECONNABORTED): try at the next wake
      const int yes = 1;
      // An answer is one write, and the next request should not wait for a delayed ACK.
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
      auto c = std::make_unique<Connection>();
      c->fd = fd;
      c->idle_since = Clock::now();
      reading.push_back(std::move(c));
    }
  }

  size_t with_handlers_now() {
    std::lock_guard<std::mutex> lock(mutex);
    return with_handlers;
  }

  // Connections answered by a handler thread: closed, or read again (what they sent ahead first).
  void take_returned() {
    std::vector<std::unique_ptr<Connection>> back;
    {
      std::lock_guard<std::mutex> lock(mutex);
      back.swap(returned);
      with_handlers -= back.size();
    }
    work_ready.notify_all();  // a stopping server's threads wait for with_handlers to reach 0
    for (auto& c : back) {
      if (c->close_after || *stopping) {
        if (!c->buffer.empty() || c->close_after) start_draining(*c);
        else continue;  // idle and stopping: closed
      }
      if (advance(c) == Next::kDispatched) continue;
      reading.push_back(std::move(c));
    }
  }

  void io_loop() {
    std::vector<pollfd> fds;
    for (;;) {
      take_returned();
      if (*stopping) {
        if (listen_fd >= 0) ::close(listen_fd), listen_fd = -1;
        // Idle connections and requests not yet whole are closed; those being answered finish first.
        reading.erase(std::remove_if(reading.begin(), reading.end(), [](const auto& c) { return !c->draining; }),
                      reading.end());
        if (with_handlers_now() == 0) {
          std::lock_guard<std::mutex> lock(mutex);
          if (returned.empty()) break;
        }
      }
      const Clock::time_point now = Clock::now();
      Clock::time_point soonest = now + std::chrono::seconds(1);
      fds.clear();
      fds.push_back({wake_fd, POLLIN, 0});
      const bool accepting = listen_fd >= 0 && reading.size() + with_handlers_now() < options.max_connections;
      fds.push_back({accepting ? listen_fd : -1, POLLIN, 0});
      for (const auto& c : reading) {
        fds.push_back({c->fd, POLLIN, 0});
        soonest = std::min(soonest, deadline(*c));
      }
      const auto wait = std::chrono::duration_cast<milliseconds>(soonest - now).count();
      if (::poll(fds.data(), fds.size(), int(std::max<int64_t>(wait, 0) + 1)) < 0 && errno != EINTR) return;
      if (fds[0].revents & POLLIN) {
        uint64_t count = 0;
        (void)!::read(wake_fd, &count, sizeof count);
      }
      if (accepting && (fds[1].revents & POLLIN)) accept_all();
      const Clock::time_point after = Clock::now();
      std::vector<std::unique_ptr<Connection>> still;
      still.reserve(reading.size());
      for (size_t i = 0; i < reading.size(); ++i) {
        std::unique_ptr<Connection>& c = reading[i];
        const short events = i + 2 < fds.size() && fds[i + 2].fd == c->fd ? fds[i + 2].revents : 0;
        if (events & (POLLIN | POLLHUP | POLLERR)) {
          if (!read_available(*c)) continue;  // closed by the client: dropped
          if (advance(c) == Next::kDispatched) continue;
        }
        if (!check_deadline(*c, after)) continue;
        still.push_back(std::move(c));
      }
      reading.swap(still);
    }
  }
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler, ErrorBody error_body, Logger logger)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  impl_->error_body = std::move(error_body);
  impl_->logger = std::move(logger);
  impl_->stopping = &stopping_;
  impl_->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

HttpServer::~HttpServer() {
  stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

Result<int> HttpServer::bind() {
  const HttpServerOptions& o = impl_->options;
  const std::string where = o.host + ":" + std::to_string(o.port);
  if (impl_->wake_fd < 0) return error(std::string("cannot make the server's wake-up descriptor: ") + std::strerror(errno));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(o.port);
  if (const int rc = ::getaddrinfo(o.host.empty() ? nullptr : o.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return error("cannot listen on " + where + ": " + ::gai_strerror(rc));
  std::string failure = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, o.listen_backlog) == 0) {
      set_nonblocking(fd);
      impl_->listen_fd = fd;
      break;
    }
    failure = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (impl_->listen_fd < 0)
    return error("cannot listen on " + where + " (" + failure + ": in use, or not an address of this machine)");
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&bound), &length);
  return bound.ss_family == AF_INET6 ? int(ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port))
                                     : int(ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port));
}

Status HttpServer::serve() {
  if (impl_->listen_fd < 0 && !stopping_) return error("serve() before bind()");
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i) impl_->threads.emplace_back([this] { impl_->handler_loop(); });
  impl_->io_loop();
  stopping_ = true;
  impl_->work_ready.notify_all();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->reading.clear();
  return Status::ok();
}

void HttpServer::stop() {
  stopping_ = true;
  if (impl_->wake_fd >= 0) impl_->wake();
  impl_->work_ready.notify_all();
}

}  // namespace arbiter::serve

#include "serve/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "core/log.h"

namespace arbiter::serve {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long a connection answered for the last time is read (and dropped) before it is closed, and how long
// a stopping server gives answers still being written.
constexpr Clock::duration kDrainTime = std::chrono::seconds(2);
// A buffer that held a large request is given back once the request is taken, so that a kept-alive
// connection does not keep the memory of the largest request it ever sent.
constexpr size_t kKeptBufferCapacity = 256 << 10;

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK); }

// Lets the process open as many descriptors as the connection cap needs (the soft limit is often 1024),
// within its hard limit; says so when the hard limit is lower.
void raise_descriptor_limit(size_t connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = rlim_t(connections + 256);  // the model's files, logs, the listener
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted)
    log_warn("open files are limited to " + std::to_string(limit.rlim_cur) + " (ulimit -n): fewer than " +
             std::to_string(connections) + " connections can be open at once");
}

}  // namespace

namespace http_connection {

// One client connection: what has been read from it, and the answer being written to it.
struct Connection {
  int fd = -1;
  std::string buffer;  // bytes read and not yet taken by a request
  Clock::time_point idle_since;  // when it was last ready for a new request
  Clock::time_point first_byte;  // of the request being read (buffer not empty)
  bool head_read = false;
  RequestHead head;              // when head_read
  Clock::time_point head_time;   // when the head was complete
  bool continue_sent = false;
  bool peer_closed = false;      // the client shut its sending side: what it sent is answered, then it closes

  std::string output;            // an answer being written (the I/O thread writes it as the socket takes it)
  size_t output_sent = 0;
  Clock::time_point write_deadline;
  bool close_after = false;      // the answer being written is the connection's last

  bool draining = false;         // answered for the last time: read and dropped until the client closes
  Clock::time_point drain_until;

  bool writing() const { return output_sent < output.size(); }

  ~Connection() {
    if (fd >= 0) ::close(fd);
  }
};

// A whole request, with the connection it came on, for a handler thread.
struct Work {
  std::unique_ptr<Connection> connection;
  HttpRequest request;
};

}  // namespace http_connection

struct HttpServer::Impl {
  using Connection = http_connection::Connection;
  using Work = http_connection::Work;

  HttpServerOptions options;
  Handler handler;
  ErrorBody error_body;
  Logger logger;
  std::atomic<bool>* stopping = nullptr;

  int listen_fd = -1;
  int wake_fd = -1;  // eventfd: handler threads and stop() wake the I/O thread
  Clock::time_point accept_paused_until;  // out of descriptors: accepting waits a little
  bool told_out_of_descriptors = false;
  Clock::time_point stop_time;
  bool stop_seen = false;

  std::vector<std::unique_ptr<Connection>> open;  // owned by the I/O thread: read, written or drained there
  std::mutex mutex;
  std::condition_variable work_ready;
  std::deque<Work> work;                                // complete requests for the handler threads
  std::vector<std::unique_ptr<Connection>> returned;  // answered connections back to the I/O thread
  size_t with_handlers = 0;                           // connections out of `open` (queued or being handled)
  bool io_done = false;                               // the I/O loop has ended: handler threads may end
  std::vector<std::thread> threads;

  void wake() const {
    const uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof one);
  }

  size_t with_handlers_now() {
    std::lock_guard<std::mutex> lock(mutex);
    return with_handlers;
  }

  // --- handler threads: handle a request, never touch its socket ---

  void handler_loop() {
    for (;;) {
      Work item;
      {
        std::unique_lock<std::mutex> lock(mutex);
        // Handler threads end only when the I/O thread has (io_done): until then a request may still come,
        // even after a stop (one read whole in the same round).
        work_ready.wait(lock, [&] { return !work.empty() || io_done; });
        if (work.empty()) return;
        item = std::move(work.front());
        work.pop_front();
      }
      answer(*item.connection, item.request);
      {
        std::lock_guard<std::mutex> lock(mutex);
        returned.push_back(std::move(item.connection));
      }
      wake();
    }
  }

  // Runs the handler on a request and puts its answer in the connection's output (written by the I/O
  // thread). On a handler thread, or on the I/O thread for the requests answered there.
  void answer(Connection& c, const HttpRequest& request) {
    HttpResponse response;
    try {
      handler(request, response);
    } catch (const std::exception& e) {
      response = HttpResponse{};
      error_body(response, 500, std::string("internal error: ") + e.what());
    } catch (...) {
      response = HttpResponse{};
      error_body(response, 500, "internal error: unknown exception");
    }
    if (logger) logger(request, response);
    // A client that shut its sending side still gets this answer and those to what it sent before (a model
    // request it sent last may have been cancelled as its client gone: the answer is then the 499).
    const bool keep = request.keep_alive() && !response.close && !*stopping;
    c.output = serialize_response(response, keep, request.method == "HEAD");
    c.output_sent = 0;
    c.write_deadline = Clock::now() + milliseconds(options.write_timeout_ms);
    c.close_after = !keep;
  }

  void dispatch(std::unique_ptr<Connection> c, HttpRequest request) {
    // Asked by the handler thread, which holds the connection until it answers. A client that closed its
    // side with no request sent after this one has gone: a timed-out trainer, or one that gave up. (One
    // that half-closes and waits for this answer is counted as gone too, as Go's server counts it.)
    request.client_gone = [connection = c.get()] {
      if (!connection->buffer.empty()) return false;  // it sent more: it expects answers
      if (connection->peer_closed) return true;
      pollfd p{connection->fd, POLLIN | POLLRDHUP, 0};
      if (::poll(&p, 1, 0) <= 0) return false;
      if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) {
        char byte;
        return ::recv(connection->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
      }
      return false;
    };
    {
      std::lock_guard<std::mutex> lock(mutex);
      work.push_back(Work{std::move(c), std::move(request)});
      ++with_handlers;
    }
    work_ready.notify_one();
  }

  // --- the I/O thread ---

  // What happened to a connection in one step: still open (in `open`), taken by a handler, or finished.
  enum class Next { kOpen, kDispatched, kClosed };

  // Writes what the socket takes now; false when the connection failed.
  bool write_some(Connection& c) {
    while (c.writing()) {
      const ssize_t n = ::send(c.fd, c.output.data() + c.output_sent, c.output.size() - c.output_sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.output_sent += size_t(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return true;
  }

  // An answer the server gives itself (the request cannot be read, or took too long): the connection's last.
  Next refuse(std::unique_ptr<Connection>& c, const HttpRequest& request, int status, const std::string& message) {
    HttpResponse response;
    error_body(response, status, message);
    response.close = true;
    if (logger) logger(request, response);
    c->output = serialize_response(response, false, false);
    c->output_sent = 0;
    c->write_deadline = Clock::now() + milliseconds(options.write_timeout_ms);
    c->close_after = true;
    c->buffer.clear();
    c->head_read = false;
    return flush(c);
  }

  // Closing a socket that still has unread bytes makes the kernel reset the connection, which can discard
  // the answer before the client reads it: shut the sending side, read until the client closes.
  Next start_draining(Connection& c) {
    if (c.peer_closed) return Next::kClosed;
    ::shutdown(c.fd, SHUT_WR);
    c.draining = true;
    c.drain_until = Clock::now() + kDrainTime;
    c.buffer.clear();
    c.buffer.shrink_to_fit();
    return Next::kOpen;
  }

  // Writes the pending answer; once it is out, the connection closes or goes on with what it sent ahead.
  Next flush(std::unique_ptr<Connection>& c) {
    const Next written = write_answer(*c);
    if (written != Next::kOpen || c->writing() || c->draining) return written;
    return advance(c);
  }

  // Writes the pending answer as far as the socket takes it; once it is out, the connection drains (its
  // last answer) or is ready for its next request.
  Next write_answer(Connection& c) {
    if (!write_some(c)) return Next::kClosed;
    if (c.writing()) return Next::kOpen;  // the rest when the socket takes it (POLLOUT)
    c.output.clear();
    c.output.shrink_to_fit();
    c.output_sent = 0;
    if (c.close_after || *stopping) return start_draining(c);
    c.idle_since = Clock::now();
    return Next::kOpen;
  }

  // Takes what the buffer holds: nothing yet, a head (checked), a whole request (to a handler thread).
  Next advance(std::unique_ptr<Connection>& c) {
    for (;;) {
      if (c->draining || c->writing()) return Next::kOpen;
      if (!c->head_read) {
        // Empty lines before a request (RFC 9112 2.2) are dropped as they come, so they never pile up.
        const size_t blank = c->buffer.find_first_not_of("\r\n");
        c->buffer.erase(0, blank == std::string::npos ? c->buffer.size() : blank);
        if (c->buffer.empty()) return c->peer_closed ? Next::kClosed : Next::kOpen;
        RequestHead head = parse_request_head(c->buffer, options.limits);
        if (head.state == RequestHead::State::kIncomplete) return c->peer_closed ? Next::kClosed : Next::kOpen;
        if (head.state == RequestHead::State::kError) return refuse(c, head.request, head.error_status, head.error_message);
        c->head = std::move(head);
        c->head_read = true;
        c->head_time = Clock::now();
        c->head.request.received = c->head_time;
      }
      const uint64_t whole = c->head.head_bytes + c->head.body_bytes;
      if (c->buffer.size() < whole) {
        if (c->peer_closed) return Next::kClosed;  // the body can no longer come
        if (c->head.expects_continue && !c->continue_sent) {
          c->continue_sent = true;
          // Best effort: nothing else is being written on the connection, so the socket takes 25 bytes.
          (void)!::send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
        }
        return Next::kOpen;
      }
      HttpRequest request = std::move(c->head.request);
      request.body = c->buffer.substr(c->head.head_bytes, c->head.body_bytes);
      c->buffer.erase(0, whole);
      if (c->buffer.capacity() > kKeptBufferCapacity) std::string(c->buffer).swap(c->buffer);
      c->head = RequestHead{};
      c->head_read = false;
      c->continue_sent = false;
      if (!c->buffer.empty()) c->first_byte = Clock::now();  // the next request has begun
      // Answered here only when nothing is pipelined behind it (a probe's lone request): a flood of
      // pipelined probes goes to the handler threads like any request, so it cannot hold the I/O thread.
      if (c->buffer.empty() && options.answer_inline && options.answer_inline(request)) {
        answer(*c, request);
        const Next written = write_answer(*c);
        if (written != Next::kOpen || c->writing() || c->draining) return written;
        continue;
      }
      dispatch(std::move(c), std::move(request));
      return Next::kDispatched;
    }
  }

  // Reads what the socket has; false when the connection failed (reset). A client that shut its sending
  // side is marked, and what it sent before is still answered.
  bool read_available(Connection& c) {
    char chunk[64 << 10];
    const size_t most = options.limits.max_head_bytes + options.limits.max_body_bytes;
    while (c.draining || c.buffer.size() <= most) {
      const ssize_t n = ::recv(c.fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        if (c.draining) continue;
        if (c.buffer.empty()) c.first_byte = Clock::now();
        c.buffer.append(chunk, size_t(n));
        continue;
      }
      if (n == 0) {
        c.peer_closed = true;
        return true;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      break;
    }
    // ACK at once what was read: a client that writes its headers and body apart without TCP_NODELAY
    // (cpp-httplib's client, many others) holds the body back until its headers are acknowledged, and a
    // delayed ACK would add about 40 ms to every request after a connection's first. (Linux leaves
    // quick-ack mode by itself, so it is asked for after each read.)
    const int yes = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_QUICKACK, &yes, sizeof yes);
    return true;
  }

  // The time by which the connection must make progress.
  Clock::time_point deadline(const Connection& c) const {
    if (c.writing()) return c.write_deadline;
    if (c.draining) return c.drain_until;
    if (c.head_read) return c.head_time + milliseconds(options.body_timeout_ms);
    if (!c.buffer.empty()) return c.first_byte + milliseconds(options.header_timeout_ms);
    return c.idle_since + milliseconds(options.idle_timeout_ms);
  }

  Next check_deadline(std::unique_ptr<Connection>& c, Clock::time_point now) {
    if (now < deadline(*c)) return Next::kOpen;
    // An answer not read in time, a drain that is over, an idle connection: closed. A request that did
    // not arrive in time: answered 408.
    if (c->writing() || c->draining || (c->buffer.empty() && !c->head_read)) return Next::kClosed;
    const std::string what = c->head_read ? "the request body did not arrive within " + std::to_string(options.body_timeout_ms)
                                          : "the request's headers did not arrive within " + std::to_string(options.header_timeout_ms);
    return refuse(c, c->head_read ? c->head.request : HttpRequest{}, 408, what + " ms");
  }

  void accept_all() {
    while (open.size() + with_handlers_now() < options.max_connections) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // The listener stays readable while connections wait: polling it now would spin.
          accept_paused_until = Clock::now() + milliseconds(100);
          if (!told_out_of_descriptors)
            log_warn(std::string("serve: cannot accept connections: ") + std::strerror(errno) +
                     " (raise ulimit -n); waiting connections are taken as others close");
          told_out_of_descriptors = true;
        }
        return;  // EAGAIN: none left
      }
      const int yes = 1;
      // An answer is one write, and the next request should not wait for a delayed ACK.
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
      auto c = std::make_unique<Connection>();
      c->fd = fd;
      c->idle_since = Clock::now();
      open.push_back(std::move(c));
    }
  }

  // Connections answered by a handler thread: their answers written as far as the sockets take them.
  void take_returned() {
    std::vector<std::unique_ptr<Connection>> back;
    {
      std::lock_guard<std::mutex> lock(mutex);
      back.swap(returned);
      with_handlers -= back.size();
    }
    for (auto& c : back)
      if (flush(c) == Next::kOpen) open.push_back(std::move(c));
  }

  // True when the loop is done: stopping, no request left with a handler, no answer left to write.
  bool finish_stopping() {
    if (!stop_seen) {
      stop_seen = true;
      stop_time = Clock::now();
      if (listen_fd >= 0) ::close(listen_fd), listen_fd = -1;
    }
    // Idle connections and requests not yet whole are closed; answers being written get a little time.
    std::erase_if(open, [&](const auto& c) { return !c->writing() && !c->draining; });
    for (auto& c : open)
      if (c->writing()) c->write_deadline = std::min(c->write_deadline, stop_time + kDrainTime);
    const bool writing = std::any_of(open.begin(), open.end(), [](const auto& c) { return c->writing(); });
    std::lock_guard<std::mutex> lock(mutex);
    return with_handlers == 0 && returned.empty() && !writing;
  }

  void io_loop() {
    std::vector<pollfd> fds;
    for (;;) {
      take_returned();
      if (*stopping && finish_stopping()) break;
      const Clock::time_point now = Clock::now();
      Clock::time_point soonest = now + std::chrono::seconds(1);
      size_t buffered = 0;
      for (const auto& c : open) buffered += c->buffer.size();
      const bool reading_allowed = buffered <= options.max_buffered_bytes;
      fds.clear();
      fds.push_back({wake_fd, POLLIN, 0});
      const bool accepting = reading_allowed && listen_fd >= 0 && now >= accept_paused_until &&
                             open.size() + with_handlers_now() < options.max_connections;
      fds.push_back({accepting ? listen_fd : -1, POLLIN, 0});
      if (listen_fd >= 0 && now < accept_paused_until) soonest = std::min(soonest, accept_paused_until);
      for (const auto& c : open) {
        short events = 0;
        if (c->writing()) events = POLLOUT;
        else if (!c->peer_closed && (c->draining || reading_allowed)) events = POLLIN;
        fds.push_back({events ? c->fd : -1, events, 0});
        soonest = std::min(soonest, deadline(*c));
      }
      const auto wait = std::chrono::duration_cast<milliseconds>(soonest - now).count();
      if (::poll(fds.data(), fds.size(), int(std::max<int64_t>(wait, 0) + 1)) < 0 && errno != EINTR) return;
      if (fds[0].revents & POLLIN) {
        uint64_t count = 0;
        (void)!::read(wake_fd, &count, sizeof count);
      }
      const size_t polled = open.size();  // accepted connections are polled from the next round on
      if (accepting && (fds[1].revents & POLLIN)) accept_all();
      const Clock::time_point after = Clock::now();
      std::vector<std::unique_ptr<Connection>> still;
      still.reserve(open.size());
      for (size_t i = 0; i < open.size(); ++i) {
        std::unique_ptr<Connection>& c = open[i];
        const short events = i < polled ? fds[i + 2].revents : 0;
        Next next = Next::kOpen;
        if (c->writing() && (events & (POLLOUT | POLLERR | POLLHUP))) {
          next = flush(c);
        } else if (!c->writing() && (events & (POLLIN | POLLERR | POLLHUP))) {
          if (!read_available(*c)) next = Next::kClosed;
          else if (c->draining) next = c->peer_closed ? Next::kClosed : Next::kOpen;
          else next = advance(c);
        }
        if (next == Next::kOpen) next = check_deadline(c, after);
        if (next == Next::kOpen) still.push_back(std::move(c));
      }
      open.swap(still);
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
  raise_descriptor_limit(o.max_connections);
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

Status HttpServer::serve(const std::function<void(int http_threads)>& on_ready) {
  if (impl_->listen_fd < 0 && !stopping_) return error("serve() before bind()");
  const int wanted = std::max(1, impl_->options.threads);
  for (int i = 0; i < wanted; ++i) {
    try {
      impl_->threads.emplace_back([this] { impl_->handler_loop(); });
    } catch (const std::system_error& e) {
      // A process or thread limit (ulimit -u, a container's pids limit): serve with the threads there are.
      if (impl_->threads.empty())
        return error(std::string("cannot start an HTTP thread (") + e.code().message() + "): raise the process limit");
      log_warn("only " + std::to_string(impl_->threads.size()) + " of " + std::to_string(wanted) + " HTTP threads could "
               "be started (" + e.code().message() + "): serving with those (--http-threads sets how many)");
      break;
    }
  }
  if (on_ready) on_ready(int(impl_->threads.size()));
  impl_->io_loop();
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->io_done = true;
  }
  impl_->work_ready.notify_all();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->open.clear();
  return Status::ok();
}

void HttpServer::stop() {
  stopping_ = true;
  if (impl_->wake_fd >= 0) impl_->wake();
  impl_->work_ready.notify_all();
}

}  // namespace arbiter::serve

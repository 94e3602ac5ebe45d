// Errors as values: Status for operations that return nothing, Result<T> for those that return a value.
// Messages name what went wrong and where (file, tensor, field, row); callers add context with
// with_context() as the error travels up.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace arbiter {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message), true); }

  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return is_ok(); }
  const std::string& message() const { return message_; }

  // "context: message", so the outermost caller's words come first.
  Status with_context(const std::string& context) const {
    if (is_ok()) return *this;
    return Status::error(context + ": " + message_);
  }

 private:
  Status(std::string message, bool failed) : message_(std::move(message)), failed_(failed) {}
  std::string message_;
  bool failed_ = false;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {}   // NOLINT: must be an error status

  bool is_ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return is_ok(); }

  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(state_); }
  const std::string& message() const {
    static const std::string empty;
    return is_ok() ? empty : std::get<Status>(state_).message();
  }

 private:
  std::variant<T, Status> state_;
};

inline Status error(std::string message) { return Status::error(std::move(message)); }

}  // namespace arbiter

#define ARB_CONCAT_INNER(a, b) a##b
#define ARB_CONCAT(a, b) ARB_CONCAT_INNER(a, b)

// Return the Status if it is an error.
#define ARB_TRY(expr)                              \
  do {                                             \
    ::arbiter::Status arb_status_ = (expr);        \
    if (!arb_status_.is_ok()) return arb_status_;  \
  } while (0)

// `ARB_ASSIGN(auto x, f());` declares x from a Result or returns its error.
#define ARB_ASSIGN(lhs, expr) ARB_ASSIGN_IMPL(ARB_CONCAT(arb_result_, __LINE__), lhs, expr)
#define ARB_ASSIGN_IMPL(tmp, lhs, expr)       \
  auto tmp = (expr);                          \
  if (!tmp.is_ok()) return tmp.status();      \
  lhs = std::move(tmp).value()

// Status / StatusOr: errors that a user or the outside world can cause.
// Thread-safety: value types; safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/check.h"

namespace pagellm {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // bad request / bad flag / malformed input
  kNotFound,          // missing file, tensor, model
  kAlreadyExists,
  kOutOfRange,        // prompt longer than context, offsets beyond a file
  kResourceExhausted, // out of memory / KV blocks
  kFailedPrecondition,
  kUnimplemented,     // valid but unsupported (unknown architecture, unsupported feature)
  kUnavailable,       // loading, shutting down, network
  kDataLoss,          // corrupt or truncated file
  kPermissionDenied,
  kUnauthenticated,
  kDeadlineExceeded,
  kCancelled,
  kAborted,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Returns a copy whose message is "prefix: message" (adds context while propagating).
  Status WithContext(std::string_view prefix) const;

  bool operator==(const Status& o) const { return code_ == o.code_ && message_ == o.message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string msg);
Status NotFoundError(std::string msg);
Status OutOfRangeError(std::string msg);
Status ResourceExhaustedError(std::string msg);
Status FailedPreconditionError(std::string msg);
Status UnimplementedError(std::string msg);
Status UnavailableError(std::string msg);
Status DataLossError(std::string msg);
Status InternalError(std::string msg);
Status CancelledError(std::string msg);
Status AbortedError(std::string msg);
Status DeadlineExceededError(std::string msg);
Status UnauthenticatedError(std::string msg);
Status AlreadyExistsError(std::string msg);
Status PermissionDeniedError(std::string msg);

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : rep_(std::move(status)) {  // NOLINT: implicit by design
    PAGELLM_CHECK(!std::get<Status>(rep_).ok()) << "StatusOr built from an OK status";
  }
  StatusOr(T value) : rep_(std::move(value)) {}  // NOLINT
  template <typename U, typename = std::enable_if_t<std::is_convertible_v<U&&, T> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, T>>>
  StatusOr(U&& value) : rep_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(rep_); }
  Status status() const { return ok() ? Status() : std::get<Status>(rep_); }

  T& value() & { CheckOk(); return std::get<T>(rep_); }
  const T& value() const& { CheckOk(); return std::get<T>(rep_); }
  T&& value() && { CheckOk(); return std::get<T>(std::move(rep_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void CheckOk() const {
    PAGELLM_CHECK(ok()) << "StatusOr::value() on error: " << std::get<Status>(rep_).ToString();
  }
  std::variant<Status, T> rep_;
};

}  // namespace pagellm

#define PAGELLM_CONCAT_INNER(a, b) a##b
#define PAGELLM_CONCAT(a, b) PAGELLM_CONCAT_INNER(a, b)

// RETURN_IF_ERROR(expr): returns the Status of expr from the enclosing function if not OK.
#define RETURN_IF_ERROR(expr)                                   \
  do {                                                          \
    ::pagellm::Status _pagellm_st = (expr);                     \
    if (!_pagellm_st.ok()) return _pagellm_st;                  \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): lhs = value of StatusOr expr, or return its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  PAGELLM_ASSIGN_OR_RETURN_IMPL(PAGELLM_CONCAT(_pagellm_so_, __LINE__), lhs, expr)
#define PAGELLM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

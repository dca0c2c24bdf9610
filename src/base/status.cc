#include "base/status.h"

namespace pagellm {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDataLoss: return "DATA_LOSS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kAborted: return "ABORTED";
    case StatusCode::kInternal: return "INTERNAL";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(StatusCodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

Status Status::WithContext(std::string_view prefix) const {
  if (ok()) return *this;
  std::string m(prefix);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

#define PAGELLM_DEFINE_ERROR(Name, Code) \
  Status Name(std::string msg) { return Status(StatusCode::Code, std::move(msg)); }
PAGELLM_DEFINE_ERROR(InvalidArgumentError, kInvalidArgument)
PAGELLM_DEFINE_ERROR(NotFoundError, kNotFound)
PAGELLM_DEFINE_ERROR(OutOfRangeError, kOutOfRange)
PAGELLM_DEFINE_ERROR(ResourceExhaustedError, kResourceExhausted)
PAGELLM_DEFINE_ERROR(FailedPreconditionError, kFailedPrecondition)
PAGELLM_DEFINE_ERROR(UnimplementedError, kUnimplemented)
PAGELLM_DEFINE_ERROR(UnavailableError, kUnavailable)
PAGELLM_DEFINE_ERROR(DataLossError, kDataLoss)
PAGELLM_DEFINE_ERROR(InternalError, kInternal)
PAGELLM_DEFINE_ERROR(CancelledError, kCancelled)
PAGELLM_DEFINE_ERROR(AbortedError, kAborted)
PAGELLM_DEFINE_ERROR(DeadlineExceededError, kDeadlineExceeded)
PAGELLM_DEFINE_ERROR(UnauthenticatedError, kUnauthenticated)
PAGELLM_DEFINE_ERROR(AlreadyExistsError, kAlreadyExists)
PAGELLM_DEFINE_ERROR(PermissionDeniedError, kPermissionDenied)
#undef PAGELLM_DEFINE_ERROR

}  // namespace pagellm

// Status → Python exception at the module boundary: InvalidArgument / OutOfRange /
// Unimplemented become ValueError (what vLLM raises for bad requests), Cancelled becomes
// KeyboardInterrupt, everything else RuntimeError. The message is the Status message.
#pragma once

#include <pybind11/pybind11.h>

#include "base/status.h"

namespace pagellm::python {

[[noreturn]] void ThrowStatus(const Status& s);

inline void ThrowIfError(const Status& s) {
  if (!s.ok()) ThrowStatus(s);
}

template <typename T>
T ValueOrThrow(StatusOr<T> s) {
  if (!s.ok()) ThrowStatus(s.status());
  return std::move(s).value();
}

}  // namespace pagellm::python

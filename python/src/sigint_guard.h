// SigintGuard: while the engine runs with the GIL released, Python cannot run its SIGINT
// handler, so Ctrl-C would wait for the whole batch. The guard installs a C handler that only
// sets `cancel` (the engine checks it between steps) and restores the previous handler on
// destruction; the caller then raises KeyboardInterrupt if interrupted() is true.
// Only the main thread installs it (Python delivers signals there); elsewhere it is a no-op.
// Thread-safety: one guard at a time per process (the engine is one call at a time anyway).
#pragma once

#include <atomic>
#include <csignal>

namespace pagellm::python {

class SigintGuard {
 public:
  // Must be called with the GIL held.
  explicit SigintGuard(std::atomic<bool>* cancel);
  ~SigintGuard();
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

  bool interrupted() const;

 private:
  bool installed_ = false;
  struct sigaction previous_ {};
};

}  // namespace pagellm::python

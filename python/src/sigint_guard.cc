#include "python/src/sigint_guard.h"

#include <pybind11/pybind11.h>

namespace pagellm::python {
namespace {

// Signal handlers may only touch lock-free atomics.
std::atomic<std::atomic<bool>*> g_cancel{nullptr};
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnSigint(int) {
  g_interrupted.store(true);
  if (std::atomic<bool>* c = g_cancel.load()) c->store(true);
}

bool OnMainThread() {
  namespace py = pybind11;
  py::module_ threading = py::module_::import("threading");
  return threading.attr("current_thread")().is(threading.attr("main_thread")());
}

}  // namespace

SigintGuard::SigintGuard(std::atomic<bool>* cancel) {
  if (!OnMainThread()) return;
  g_interrupted.store(false);
  g_cancel.store(cancel);
  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  installed_ = sigaction(SIGINT, &sa, &previous_) == 0;
}

SigintGuard::~SigintGuard() {
  if (!installed_) return;
  sigaction(SIGINT, &previous_, nullptr);
  g_cancel.store(nullptr);
}

bool SigintGuard::interrupted() const { return installed_ && g_interrupted.load(); }

}  // namespace pagellm::python

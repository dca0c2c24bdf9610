// Readback: device -> host copies that the host reads later without stalling the stream.
// Async scheduling reads step N's sampled ids while the device already runs step N+1: a plain
// Copy to host would wait for step N+1 too. Enqueue() queues the copies behind the work already
// on ctx.stream (into page-locked memory on CUDA) and records an event; Wait() blocks until
// they have landed. On the CPU the copies are made at Enqueue.
// Thread-safety: one thread.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "ops/exec_ctx.h"
#include "tensor/tensor.h"

namespace pagellm::cuda {
class PinnedReadback;
}  // namespace pagellm::cuda

namespace pagellm::ops {

class Readback {
 public:
  static StatusOr<std::unique_ptr<Readback>> Create(Device device);
  ~Readback();
  Readback(const Readback&) = delete;
  Readback& operator=(const Readback&) = delete;

  // REQUIRES: defined srcs are contiguous and on the device given to Create. Replaces what an
  // earlier Enqueue queued (call Wait first when its results are still wanted).
  Status Enqueue(const ExecCtx& ctx, std::span<const Tensor> srcs);
  // Host copies of the last Enqueue's tensors, in order (undefined for undefined srcs).
  StatusOr<std::vector<Tensor>> Wait();

 private:
  Readback() = default;
  std::vector<Tensor> host_;  // CPU: the copies
  std::unique_ptr<cuda::PinnedReadback> pinned_;
};

}  // namespace pagellm::ops

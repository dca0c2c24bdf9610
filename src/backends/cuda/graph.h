// Streams and CUDA graphs behind plain C++ types (no CUDA headers), for ops/graph.cc.
#pragma once

#include <functional>
#include <memory>

#include "base/status.h"
#include "ops/exec_ctx.h"

namespace pagellm::cuda {

// A non-blocking stream on `device` (it does not synchronise with the legacy default stream).
StatusOr<void*> CreateStream(int device);
void DestroyStream(void* stream);
Status SynchronizeStream(const ExecCtx& ctx);

// An instantiated graph; Replay enqueues it on ctx.stream.
class CudaGraph {
 public:
  virtual ~CudaGraph() = default;
  virtual Status Replay(const ExecCtx& ctx) = 0;
};

// Captures what `body` enqueues on ctx.stream (relaxed mode; allocations come from the
// allocator's capture pool so the graph's buffers are never handed to eager work).
// REQUIRES: ctx.stream is a stream from CreateStream; body enqueues only on it.
StatusOr<std::unique_ptr<CudaGraph>> CaptureGraph(const ExecCtx& ctx,
                                                  const std::function<Status()>& body);

// While on (process-wide), Linear times cuBLASLt's candidate algorithms the first time it sees
// a shape outside graph capture and keeps the fastest (gemm.cc); off, it keeps the heuristic's
// first choice. ops::AutotuneScope turns it on for the runner's warm-up.
void SetGemmAutotune(bool on);

}  // namespace pagellm::cuda

// Per-op GPU time, for finding where a forward pass's device time goes without a profiler
// (nsys is not available on the GPU machine). Enabled by PAGELLM_PROFILE_OPS=1 (read once);
// every op dispatched to CUDA through PAGELLM_DISPATCH is then bracketed by two CUDA events on
// its stream and its elapsed time added to a total keyed by the op's name (and, for Linear, its
// [out x in] shape). Only meaningful for eager execution (--enforce-eager): ops enqueued inside
// a graph capture are not timed. Disabled, an op pays one branch.
// Thread-safety: ops are enqueued by one thread (the engine thread) at a time.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "ops/exec_ctx.h"

namespace pagellm::cuda {

bool OpProfileEnabled();
// Returns a handle for OpProfileEnd, or -1 when the op is not timed (disabled, or the stream
// is capturing a graph).
int64_t OpProfileBegin(const ExecCtx& ctx);
void OpProfileEnd(const ExecCtx& ctx, int64_t handle, const char* op, int64_t dim0, int64_t dim1);
// Logs "op: total ms, calls, mean us" per key, largest first, then clears the totals.
void OpProfileReport();

template <typename F>
Status Profiled(const ExecCtx& ctx, const char* op, int64_t dim0, int64_t dim1, F&& launch) {
  if (!OpProfileEnabled()) return launch();
  const int64_t h = OpProfileBegin(ctx);
  Status s = launch();
  OpProfileEnd(ctx, h, op, dim0, dim1);
  return s;
}

}  // namespace pagellm::cuda

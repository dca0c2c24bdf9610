// The one device switch used by ops/<family>.cc. The CUDA backend (backends/cuda, built when
// PAGELLM_HAVE_CUDA) must define every function of ops/kernel_api.inc in namespace
// pagellm::cuda with exactly these parameter lists; the CPU backend defines them in pagellm::cpu.
#pragma once

#include <cstdint>

#include "backends/cpu/cpu_ops.h"
#include "base/status.h"
#include "ops/attention_metadata.h"
#include "ops/exec_ctx.h"
#include "ops/op_enums.h"
#include "ops/sampling_types.h"
#include "tensor/device.h"
#include "tensor/dtype.h"

// PAGELLM_DISPATCH_SHAPED also names two sizes for the CUDA op profiler
// (backends/cuda/op_profile.h: PAGELLM_PROFILE_OPS=1 keys the op's GPU time by them).
#if PAGELLM_HAVE_CUDA
#include "backends/cuda/op_profile.h"

namespace pagellm::cuda {
#include "ops/kernel_api.inc"
}  // namespace pagellm::cuda

#define PAGELLM_DISPATCH_SHAPED(ctx, dim0, dim1, fn, ...)                           \
  ((ctx).device.is_cuda()                                                          \
       ? ::pagellm::cuda::Profiled((ctx), #fn, (dim0), (dim1),                     \
                                   [&] { return ::pagellm::cuda::fn((ctx), __VA_ARGS__); }) \
       : ::pagellm::cpu::fn((ctx), __VA_ARGS__))
#else
#define PAGELLM_DISPATCH_SHAPED(ctx, dim0, dim1, fn, ...)                                   \
  ((ctx).device.is_cuda()                                                                   \
       ? ::pagellm::UnavailableError(#fn ": this build has no CUDA backend (PAGELLM_CUDA)") \
       : ::pagellm::cpu::fn((ctx), __VA_ARGS__))
#endif
#define PAGELLM_DISPATCH(ctx, fn, ...) PAGELLM_DISPATCH_SHAPED(ctx, -1, -1, fn, __VA_ARGS__)

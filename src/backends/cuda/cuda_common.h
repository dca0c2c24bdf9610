// Host-side helpers for the CUDA entry points: cudaError_t -> Status, device selection, dtype
// checks, scratch allocation.
#pragma once

#include <cuda_runtime.h>

#include <initializer_list>

#include "backends/cuda/kernels.h"
#include "base/status.h"
#include "ops/exec_ctx.h"
#include "tensor/tensor.h"

namespace pagellm::cuda {

// OK for cudaSuccess, else Internal (ResourceExhausted for OOM):
// "<op>: <what>: <cuda error name>: <description>".
Status CudaStatus(cudaError_t err, const char* op, const char* what);

#define PAGELLM_CUDA_RETURN_IF_ERROR(op, expr)                          \
  do {                                                                  \
    cudaError_t _pagellm_cuda_err = (expr);                             \
    if (_pagellm_cuda_err != cudaSuccess)                               \
      return ::pagellm::cuda::CudaStatus(_pagellm_cuda_err, op, #expr); \
  } while (0)

inline cudaStream_t StreamOf(const ExecCtx& ctx) { return static_cast<cudaStream_t>(ctx.stream); }

// Makes ctx.device current for this thread; errors if ctx.device is not a CUDA device.
Status UseDevice(const char* op, const ExecCtx& ctx);

// f32, f16 or bf16.
Status CheckFloat(const char* op, DType t, const char* name);
// Every dtype equals the first (the CUDA kernels run one activation dtype per op).
Status CheckOneDType(const char* op, std::initializer_list<DType> ts);

// Launch-planning facts of a device (cached per device index after the first query).
struct DeviceInfo {
  int sms = 0;
  size_t smem_optin = 0;  // the most dynamic shared memory a CTA may opt in to
};
StatusOr<DeviceInfo> GetDeviceInfo(int index);

// Device scratch for one op call (returned to the caching allocator when the Tensor dies; the
// allocator is stream-ordered for a single stream, see allocator.h).
StatusOr<Tensor> Scratch(const char* op, const ExecCtx& ctx, int64_t numel, DType dtype);

}  // namespace pagellm::cuda

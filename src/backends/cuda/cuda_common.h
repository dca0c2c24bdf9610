// Host-side helpers for the CUDA op wrappers: cudaError_t -> Status, argument validation,
// matrix views of tensors, scratch allocation.
#pragma once

#include <cuda_runtime.h>

#include <initializer_list>
#include <string>

#include "backends/cuda/kernels.h"
#include "base/status.h"
#include "ops/exec_ctx.h"
#include "tensor/tensor.h"

namespace pagellm::cuda {

// OK for cudaSuccess, else Internal("<op>: <what>: <cuda error name>: <description>").
Status CudaStatus(cudaError_t err, const char* op, const char* what);

#define PAGELLM_CUDA_RETURN_IF_ERROR(op, expr)                                     \
  do {                                                                             \
    cudaError_t _pagellm_cuda_err = (expr);                                        \
    if (_pagellm_cuda_err != cudaSuccess)                                          \
      return ::pagellm::cuda::CudaStatus(_pagellm_cuda_err, op, #expr);           \
  } while (0)

inline cudaStream_t StreamOf(const ExecCtx& ctx) { return static_cast<cudaStream_t>(ctx.stream); }

// Makes ctx.device current for this thread; errors if ctx.device is not a CUDA device.
Status UseDevice(const char* op, const ExecCtx& ctx);

// Every tensor is defined and lives on ctx.device.
Status CheckOnDevice(const char* op, const ExecCtx& ctx, std::initializer_list<const Tensor*> ts);
// f32, f16 or bf16.
Status CheckFloat(const char* op, const Tensor& t, const char* name);
Status CheckSameDType(const char* op, const Tensor& a, const Tensor& b);
Status CheckSameShape(const char* op, const Tensor& a, const Tensor& b);

// A tensor as a matrix: rows = dim 0 (1 for rank <= 1), cols = the rest, which must be
// contiguous; dim 0 may have any stride (e.g. a slice of a fused QKV output). A contiguous tensor
// becomes one row so kernels can vectorise across it.
struct MatView {
  kernels::Mat m;
  int64_t rows = 0, cols = 0;
};
StatusOr<MatView> AsRows(const char* op, const Tensor& t, bool allow_flatten = true);

// Rows along the last dim: rows = numel / last, cols = last. The last dim must be contiguous and
// the leading dims must collapse into one stride.
StatusOr<MatView> AsLastDimRows(const char* op, const Tensor& t);

// Fills a strided-copy description (rank <= 6).
Status ToStridedArgs(const char* op, const Tensor& src, const Tensor& dst,
                     kernels::StridedCopyArgs& a);

// [T, H, D] with the last dim contiguous: token/head strides in elements.
struct HeadView {
  int64_t tokens = 0, heads = 0, dim = 0, stride_t = 0, stride_h = 0;
};
StatusOr<HeadView> AsHeads(const char* op, const Tensor& t, const char* name);

// Device scratch for one op call (returned to the caching allocator when the Tensor dies; the
// allocator is stream-ordered for a single stream, see allocator.h).
StatusOr<Tensor> Scratch(const char* op, const ExecCtx& ctx, int64_t numel, DType dtype);

}  // namespace pagellm::cuda

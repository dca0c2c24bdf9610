// CUDA entry point of FillPlaceholderIds (kernel: placeholder_ids.cu). Nothing here waits.
#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_ops.h"

namespace pagellm::cuda {
namespace kernels {
cudaError_t FillPlaceholderIds(int32_t* ids, int64_t num_ids, const int32_t* prev_ids,
                               int64_t num_prev, cudaStream_t stream);
}  // namespace kernels

Status FillPlaceholderIds(const ExecCtx& ctx, int32_t* ids, int64_t num_ids,
                          const int32_t* prev_ids, int64_t num_prev) {
  constexpr const char* kOp = "cuda::FillPlaceholderIds";
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  if (num_ids == 0) return OkStatus();
  PAGELLM_CUDA_RETURN_IF_ERROR(
      kOp, kernels::FillPlaceholderIds(ids, num_ids, prev_ids, num_prev, StreamOf(ctx)));
  return OkStatus();
}

}  // namespace pagellm::cuda

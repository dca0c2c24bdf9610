#include "backends/cuda/sampling.h"

#include "backends/cuda/cuda_common.h"

namespace pagellm::cuda {

Status SampleRows(const ExecCtx& ctx, const void* logits, DType dtype, int64_t ld, int64_t rows,
                  int64_t vocab, const GpuSamplingRow* params, int32_t* out_ids,
                  float* out_logprobs) {
  constexpr const char* kOp = "cuda::SampleRows";
  RETURN_IF_ERROR(CheckFloat(kOp, dtype, "logits"));
  if (rows == 0) return OkStatus();
  if (vocab <= 0) return InvalidArgumentError("cuda::SampleRows: empty vocabulary");
  if (rows > 65535 * 32) return InvalidArgumentError("cuda::SampleRows: too many rows");
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  const int64_t bytes = rows * static_cast<int64_t>(sizeof(GpuSamplingRow));
  ASSIGN_OR_RETURN(Tensor dev_params, Scratch(kOp, ctx, bytes, DType::kU8));
  // Pageable source: staged before cudaMemcpyAsync returns, so `params` may change afterwards.
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaMemcpyAsync(dev_params.data(), params, bytes,
                                                    cudaMemcpyHostToDevice, StreamOf(ctx)));
  PAGELLM_CUDA_RETURN_IF_ERROR(
      kOp, kernels::Sample(logits, dtype, ld, rows, vocab,
                           static_cast<const GpuSamplingRow*>(dev_params.data()), out_ids,
                           out_logprobs, StreamOf(ctx)));
  return OkStatus();
}

}  // namespace pagellm::cuda

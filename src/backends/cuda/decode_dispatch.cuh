// Shared tail of the decode attention entry points: pick the element type, launch, and merge
// the context splits (if any) with AttentionReduce.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "backends/cuda/kernels.h"
#include "backends/cuda/paged_tile.cuh"

namespace pagellm::cuda::kernels {

// launch(T{}) launches the kernel for element type T (f32 only when kAllowF32: otherwise the
// f32 kernels are not even instantiated).
template <bool kAllowF32, typename Launch>
cudaError_t DispatchDecode(DType dtype, const AttentionArgs& args, cudaStream_t stream,
                           Launch&& launch) {
  cudaError_t err;
  if (dtype == DType::kF32) {
    if constexpr (kAllowF32)
      err = launch(float{});
    else
      return cudaErrorInvalidValue;
  } else {
    err = WithHalfType(dtype, launch);
  }
  if (err != cudaSuccess || args.num_splits == 1) return err;
  return AttentionReduce(dtype, args, stream);
}

}  // namespace pagellm::cuda::kernels

// FillPlaceholderIds kernel: async scheduling builds step N+1's input ids on the device from
// step N's sampled ids (ids[r] < 0 names prev_ids[-ids[r] - 1]).
#include <cuda_runtime.h>

#include <cstdint>

namespace pagellm::cuda::kernels {
namespace {

__global__ void FillPlaceholderIdsKernel(int32_t* ids, int64_t num_ids, const int32_t* prev,
                                         int64_t num_prev) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= num_ids) return;
  const int32_t v = ids[r];
  if (v >= 0) return;
  const int64_t j = -static_cast<int64_t>(v) - 1;
  ids[r] = j < num_prev ? prev[j] : 0;  // a bad reference must still yield a valid token id
}

}  // namespace

cudaError_t FillPlaceholderIds(int32_t* ids, int64_t num_ids, const int32_t* prev_ids,
                               int64_t num_prev, cudaStream_t stream) {
  constexpr int kThreads = 256;
  const int64_t blocks = (num_ids + kThreads - 1) / kThreads;
  FillPlaceholderIdsKernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      ids, num_ids, prev_ids, num_prev);
  return cudaGetLastError();
}

}  // namespace pagellm::cuda::kernels

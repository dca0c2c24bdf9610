// Scatters this step's K/V rows into the paged cache at slot_mapping.
#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"
#include "backends/cuda/kv_row.cuh"

namespace pagellm::cuda::kernels {
namespace {

template <typename T>
__global__ void WriteKVKernel(KVWriteArgs p) {
  WriteKVRow<T>(p, blockIdx.x);
}

template <typename T>
cudaError_t Launch(const KVWriteArgs& p, cudaStream_t stream) {
  if (p.num_tokens == 0) return cudaSuccess;
  const int row = p.num_kv_heads * p.head_dim;
  const int threads = row >= 512 ? 256 : 128;
  WriteKVKernel<T><<<static_cast<unsigned>(p.num_tokens), threads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

cudaError_t WriteKV(DType dtype, const KVWriteArgs& args, cudaStream_t stream) {
  switch (DTypeSize(dtype)) {
    case 4:
      return Launch<float>(args, stream);
    case 2:
      return Launch<uint16_t>(args, stream);
    case 1:
      return Launch<uint8_t>(args, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace pagellm::cuda::kernels

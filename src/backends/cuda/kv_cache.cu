// Scatters this step's K/V rows into the paged cache at slot_mapping.
#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"

namespace pagellm::cuda::kernels {
namespace {

template <typename T>
__global__ void WriteKVKernel(KVWriteArgs p) {
  const int64_t t = blockIdx.x;
  const int64_t slot = p.slot_mapping[t];
  if (slot < 0 || slot >= p.num_slots) return;  // -1: padding token, nothing to store
  const int row = p.num_kv_heads * p.head_dim;
  T* kc = static_cast<T*>(p.k_cache) + slot * row;
  T* vc = static_cast<T*>(p.v_cache) + slot * row;
  const T* k = static_cast<const T*>(p.k) + t * p.k_stride_t;
  const T* v = static_cast<const T*>(p.v) + t * p.v_stride_t;
  for (int i = threadIdx.x; i < row; i += blockDim.x) {
    const int h = i / p.head_dim, d = i % p.head_dim;
    kc[i] = k[h * p.k_stride_h + d];
    vc[i] = v[h * p.v_stride_h + d];
  }
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

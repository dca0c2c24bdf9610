// One token's K and V rows into the paged cache; shared by the KV write kernel (kv_cache.cu)
// and the fused rotary + KV write (rotary.cu).
#pragma once

#include "backends/cuda/kernels.h"

namespace pagellm::cuda::kernels {

// Called by a whole CTA for token t; slots outside [0, num_slots) (-1: padding) store nothing.
template <typename T>
__device__ __forceinline__ void WriteKVRow(const KVWriteArgs& p, int64_t t) {
  const int64_t slot = p.slot_mapping[t];
  if (slot < 0 || slot >= p.num_slots) return;
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

}  // namespace pagellm::cuda::kernels

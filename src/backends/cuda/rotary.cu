// Rotary position embedding applied in place to q and k (NeoX halves or GPT-J pairs), and,
// for ApplyRotaryWriteKV, the token's K/V rows then written to the paged cache.
#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"
#include "backends/cuda/kv_row.cuh"

namespace pagellm::cuda::kernels {
namespace {

template <typename T>
__device__ __forceinline__ void RotateHeads(T* base, int64_t stride_h, int heads, int rot_dim,
                                            bool neox, const float* cs) {
  const int half = rot_dim / 2;
  for (int i = threadIdx.x; i < heads * half; i += blockDim.x) {
    const int h = i / half, j = i % half;
    T* x = base + h * stride_h;
    const int i1 = neox ? j : 2 * j;
    const int i2 = neox ? j + half : 2 * j + 1;
    const float c = cs[j], s = cs[half + j];
    const float x1 = ToF(x[i1]), x2 = ToF(x[i2]);
    x[i1] = FromF<T>(x1 * c - x2 * s);
    x[i2] = FromF<T>(x2 * c + x1 * s);
  }
}

template <typename T>
__global__ void RotaryKernel(RotaryArgs p) {
  const int64_t t = blockIdx.x;
  const int64_t pos = p.positions[t];
  if (pos >= 0 && pos < p.max_positions) {  // documented: else the row is left unrotated
    const float* cs = p.cos_sin + pos * p.rot_dim;
    RotateHeads(static_cast<T*>(p.q) + t * p.q_stride_t, p.q_stride_h, p.num_q_heads, p.rot_dim,
                p.neox, cs);
    if (p.k)
      RotateHeads(static_cast<T*>(p.k) + t * p.k_stride_t, p.k_stride_h, p.num_k_heads,
                  p.rot_dim, p.neox, cs);
  }
  if (p.kv.slot_mapping) {  // the same for every CTA
    __syncthreads();        // the rotated k row, written by other threads, is read below
    WriteKVRow<T>(p.kv, t);
  }
}

template <typename T>
cudaError_t Launch(const RotaryArgs& p, cudaStream_t stream) {
  if (p.num_tokens == 0) return cudaSuccess;
  const int work = p.num_q_heads * p.rot_dim / 2;
  const int threads = work >= 256 ? 256 : 128;
  RotaryKernel<T><<<static_cast<unsigned>(p.num_tokens), threads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

cudaError_t Rotary(DType dtype, const RotaryArgs& args, cudaStream_t stream) {
  switch (dtype) {
    case DType::kF32:
      return Launch<float>(args, stream);
    case DType::kF16:
      return Launch<__half>(args, stream);
    case DType::kBF16:
      return Launch<__nv_bfloat16>(args, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace pagellm::cuda::kernels

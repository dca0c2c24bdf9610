// Strided copies with dtype conversion, and row gathers (GatherRows / Embedding).
#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"

namespace pagellm::cuda::kernels {
namespace {

struct Offsets {
  int64_t src, dst;
};

__device__ __forceinline__ Offsets Locate(const StridedCopyArgs& a, int64_t i) {
  Offsets o{0, 0};
  for (int d = a.rank - 1; d >= 0; --d) {
    const int64_t idx = i % a.shape[d];
    i /= a.shape[d];
    o.src += idx * a.src_stride[d];
    o.dst += idx * a.dst_stride[d];
  }
  return o;
}

template <typename S, typename D>
__global__ void ConvertKernel(StridedCopyArgs a, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const Offsets o = Locate(a, i);
    static_cast<D*>(a.dst)[o.dst] = FromF<D>(ToF(static_cast<const S*>(a.src)[o.src]));
  }
}

// Same-dtype copy of elements of sizeof(E) bytes.
template <typename E>
__global__ void RawKernel(StridedCopyArgs a, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const Offsets o = Locate(a, i);
    static_cast<E*>(a.dst)[o.dst] = static_cast<const E*>(a.src)[o.src];
  }
}

int64_t NumElements(const StridedCopyArgs& a) {
  int64_t n = 1;
  for (int d = 0; d < a.rank; ++d) n *= a.shape[d];
  return n;
}

unsigned Blocks(int64_t n, int threads) {
  int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b > 65535 * 8 ? 65535 * 8 : (b < 1 ? 1 : b));
}

template <typename S>
cudaError_t ConvertFrom(DType dst_t, const StridedCopyArgs& a, int64_t n, cudaStream_t s) {
  const unsigned blocks = Blocks(n, 256);
  switch (dst_t) {
    case DType::kF32:
      ConvertKernel<S, float><<<blocks, 256, 0, s>>>(a, n);
      break;
    case DType::kF16:
      ConvertKernel<S, __half><<<blocks, 256, 0, s>>>(a, n);
      break;
    case DType::kBF16:
      ConvertKernel<S, __nv_bfloat16><<<blocks, 256, 0, s>>>(a, n);
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

template <typename E>
__global__ void GatherKernel(const char* src, int64_t src_stride, int64_t src_rows,
                             const int32_t* idx, char* out, int64_t out_stride, int64_t row_elems) {
  const int64_t i = blockIdx.x;
  const int64_t row = idx[i];
  E* o = reinterpret_cast<E*>(out + i * out_stride);
  if (row < 0 || row >= src_rows) {
    for (int64_t c = threadIdx.x; c < row_elems; c += blockDim.x) o[c] = E{};
    return;
  }
  const E* s = reinterpret_cast<const E*>(src + row * src_stride);
  for (int64_t c = threadIdx.x; c < row_elems; c += blockDim.x) o[c] = s[c];
}

template <typename E>
cudaError_t LaunchGather(const void* src, int64_t src_stride, int64_t src_rows, const int32_t* idx,
                         int64_t n, void* out, int64_t out_stride, int64_t row_bytes,
                         cudaStream_t stream) {
  const int64_t elems = row_bytes / static_cast<int64_t>(sizeof(E));
  int threads = elems >= 256 ? 256 : (elems >= 64 ? 64 : 32);
  GatherKernel<E><<<static_cast<unsigned>(n), threads, 0, stream>>>(
      static_cast<const char*>(src), src_stride, src_rows, idx, static_cast<char*>(out), out_stride,
      elems);
  return cudaGetLastError();
}

}  // namespace

cudaError_t StridedCopy(DType src_t, DType dst_t, const StridedCopyArgs& a, cudaStream_t stream) {
  const int64_t n = NumElements(a);
  if (n == 0) return cudaSuccess;
  if (src_t == dst_t) {
    const unsigned blocks = Blocks(n, 256);
    switch (DTypeSize(src_t)) {
      case 1:
        RawKernel<uint8_t><<<blocks, 256, 0, stream>>>(a, n);
        break;
      case 2:
        RawKernel<uint16_t><<<blocks, 256, 0, stream>>>(a, n);
        break;
      case 4:
        RawKernel<uint32_t><<<blocks, 256, 0, stream>>>(a, n);
        break;
      case 8:
        RawKernel<uint64_t><<<blocks, 256, 0, stream>>>(a, n);
        break;
      default:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
  }
  switch (src_t) {
    case DType::kF32:
      return ConvertFrom<float>(dst_t, a, n, stream);
    case DType::kF16:
      return ConvertFrom<__half>(dst_t, a, n, stream);
    case DType::kBF16:
      return ConvertFrom<__nv_bfloat16>(dst_t, a, n, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

cudaError_t GatherRows(const void* src, int64_t src_stride_bytes, int64_t src_rows,
                       const int32_t* idx, int64_t n, void* out, int64_t out_stride_bytes,
                       int64_t row_bytes, cudaStream_t stream) {
  if (n == 0 || row_bytes == 0) return cudaSuccess;
  auto all_mult = [&](int64_t m) {
    return row_bytes % m == 0 && src_stride_bytes % m == 0 && out_stride_bytes % m == 0 &&
           reinterpret_cast<uintptr_t>(src) % m == 0 && reinterpret_cast<uintptr_t>(out) % m == 0;
  };
  if (all_mult(16))
    return LaunchGather<uint4>(src, src_stride_bytes, src_rows, idx, n, out, out_stride_bytes,
                               row_bytes, stream);
  if (all_mult(4))
    return LaunchGather<uint32_t>(src, src_stride_bytes, src_rows, idx, n, out, out_stride_bytes,
                                  row_bytes, stream);
  if (all_mult(2))
    return LaunchGather<uint16_t>(src, src_stride_bytes, src_rows, idx, n, out, out_stride_bytes,
                                  row_bytes, stream);
  return LaunchGather<uint8_t>(src, src_stride_bytes, src_rows, idx, n, out, out_stride_bytes,
                               row_bytes, stream);
}

}  // namespace pagellm::cuda::kernels

#include "backends/cuda/cuda_common.h"

#include <fmt/format.h>

#include "backends/cuda/cuda_ops.h"

namespace pagellm::cuda {

Status CudaStatus(cudaError_t err, const char* op, const char* what) {
  if (err == cudaSuccess) return OkStatus();
  std::string msg = fmt::format("{}: {}: {}: {}", op, what, cudaGetErrorName(err),
                                cudaGetErrorString(err));
  if (err == cudaErrorMemoryAllocation) return ResourceExhaustedError(std::move(msg));
  return InternalError(std::move(msg));
}

int DeviceCount() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the error so later calls do not see it
    return 0;
  }
  return n;
}

Status UseDevice(const char* op, const ExecCtx& ctx) {
  if (!ctx.device.is_cuda())
    return InvalidArgumentError(fmt::format("{}: ExecCtx device {} is not CUDA", op,
                                            ctx.device.ToString()));
  int cur = -1;
  PAGELLM_CUDA_RETURN_IF_ERROR(op, cudaGetDevice(&cur));
  if (cur != ctx.device.index) PAGELLM_CUDA_RETURN_IF_ERROR(op, cudaSetDevice(ctx.device.index));
  return OkStatus();
}

Status CheckOnDevice(const char* op, const ExecCtx& ctx, std::initializer_list<const Tensor*> ts) {
  int i = 0;
  for (const Tensor* t : ts) {
    if (!t->defined() && t->numel() != 0)
      return InvalidArgumentError(fmt::format("{}: argument {} is undefined", op, i));
    if (t->device() != ctx.device)
      return InvalidArgumentError(fmt::format("{}: argument {} is on {}, expected {}", op, i,
                                              t->device().ToString(), ctx.device.ToString()));
    ++i;
  }
  return OkStatus();
}

Status CheckFloat(const char* op, const Tensor& t, const char* name) {
  DType d = t.dtype();
  if (d == DType::kF32 || d == DType::kF16 || d == DType::kBF16) return OkStatus();
  return InvalidArgumentError(
      fmt::format("{}: {} has dtype {}, expected float32/float16/bfloat16", op, name, DTypeName(d)));
}

Status CheckSameDType(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() == b.dtype()) return OkStatus();
  return InvalidArgumentError(
      fmt::format("{}: dtype mismatch {} vs {}", op, DTypeName(a.dtype()), DTypeName(b.dtype())));
}

Status CheckSameShape(const char* op, const Tensor& a, const Tensor& b) {
  if (a.shape() == b.shape()) return OkStatus();
  return InvalidArgumentError(
      fmt::format("{}: shape mismatch {} vs {}", op, a.shape().ToString(), b.shape().ToString()));
}

StatusOr<MatView> AsRows(const char* op, const Tensor& t, bool allow_flatten) {
  MatView v;
  v.m.ptr = t.data();
  if (allow_flatten && t.is_contiguous()) {
    v.rows = t.numel() ? 1 : 0;
    v.cols = t.numel();
    v.m.stride = v.cols;
    return v;
  }
  if (t.rank() < 2) {
    if (t.rank() == 1 && t.stride(0) != 1)
      return InvalidArgumentError(fmt::format("{}: 1-D tensor must be contiguous", op));
    v.rows = 1;
    v.cols = t.numel();
    v.m.stride = v.cols;
    return v;
  }
  int64_t expect = 1;
  for (int d = t.rank() - 1; d >= 1; --d) {
    if (t.dim(d) != 1 && t.stride(d) != expect)
      return InvalidArgumentError(fmt::format(
          "{}: tensor {} must be contiguous past dim 0", op, t.shape().ToString()));
    expect *= t.dim(d);
  }
  v.rows = t.dim(0);
  v.cols = expect;
  v.m.stride = t.dim(0) == 1 ? expect : t.stride(0);
  return v;
}

StatusOr<MatView> AsLastDimRows(const char* op, const Tensor& t) {
  MatView v;
  v.m.ptr = t.data();
  const int64_t last = t.rank() ? t.dim(-1) : 1;
  v.cols = last;
  v.rows = last ? t.numel() / last : 0;
  v.m.stride = last;
  if (t.is_contiguous() || t.rank() <= 1) {
    if (t.rank() == 1 && t.dim(0) > 1 && t.stride(0) != 1)
      return InvalidArgumentError(fmt::format("{}: 1-D tensor must be contiguous", op));
    return v;
  }
  const int r = t.rank();
  if (t.dim(-1) > 1 && t.stride(-1) != 1)
    return InvalidArgumentError(fmt::format("{}: last dim must be contiguous", op));
  for (int i = r - 2; i >= 1; --i) {
    if (t.dim(i - 1) > 1 && t.stride(i - 1) != t.stride(i) * t.dim(i))
      return InvalidArgumentError(fmt::format(
          "{}: leading dims of {} cannot be viewed as rows", op, t.shape().ToString()));
  }
  v.m.stride = t.stride(r - 2);
  return v;
}

Status ToStridedArgs(const char* op, const Tensor& src, const Tensor& dst,
                     kernels::StridedCopyArgs& a) {
  if (src.rank() > 6)
    return InvalidArgumentError(fmt::format("{}: rank {} > 6", op, src.rank()));
  a.rank = src.rank();
  for (int d = 0; d < a.rank; ++d) {
    a.shape[d] = src.dim(d);
    a.src_stride[d] = src.stride(d);
    a.dst_stride[d] = dst.stride(d);
  }
  a.src = src.data();
  a.dst = dst.data();
  return OkStatus();
}

StatusOr<HeadView> AsHeads(const char* op, const Tensor& t, const char* name) {
  if (t.rank() != 3)
    return InvalidArgumentError(fmt::format("{}: {} must be [T, H, D], got {}", op, name,
                                            t.shape().ToString()));
  if (t.dim(2) > 1 && t.stride(2) != 1)
    return InvalidArgumentError(fmt::format("{}: {} must be contiguous in its last dim", op, name));
  HeadView h{t.dim(0), t.dim(1), t.dim(2), t.stride(0), t.stride(1)};
  return h;
}

StatusOr<Tensor> Scratch(const char* op, const ExecCtx& ctx, int64_t numel, DType dtype) {
  auto t = Tensor::Empty(Shape{numel}, dtype, ctx.device);
  if (!t.ok()) return t.status().WithContext(op);
  return t;
}

}  // namespace pagellm::cuda

// Host wrappers: pointwise ops, Copy (incl. host <-> device), GatherRows, Embedding.
#include <fmt/format.h>

#include <cstring>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_ops.h"

namespace pagellm::cuda {
namespace {

using kernels::PointwiseArgs;
using kernels::PointwiseOp;

// out = op(a[, b]) over same-shaped tensors.
Status RunPointwise(const char* op, const ExecCtx& ctx, PointwiseArgs p, const Tensor& a,
                    const Tensor* b, Tensor& out) {
  RETURN_IF_ERROR(CheckOnDevice(op, ctx, {&a, &out}));
  RETURN_IF_ERROR(CheckFloat(op, a, "input"));
  RETURN_IF_ERROR(CheckSameDType(op, a, out));
  RETURN_IF_ERROR(CheckSameShape(op, a, out));
  bool flat = a.is_contiguous() && out.is_contiguous();
  if (b) {
    RETURN_IF_ERROR(CheckOnDevice(op, ctx, {b}));
    RETURN_IF_ERROR(CheckSameDType(op, a, *b));
    RETURN_IF_ERROR(CheckSameShape(op, a, *b));
    flat = flat && b->is_contiguous();
  }
  ASSIGN_OR_RETURN(MatView av, AsRows(op, a, flat));
  ASSIGN_OR_RETURN(MatView ov, AsRows(op, out, flat));
  p.a = av.m;
  if (b) {
    ASSIGN_OR_RETURN(MatView bv, AsRows(op, *b, flat));
    p.b = bv.m;
  }
  p.out = out.data();
  p.out_stride = ov.m.stride;
  p.rows = av.rows;
  p.cols = av.cols;
  RETURN_IF_ERROR(UseDevice(op, ctx));
  PAGELLM_CUDA_RETURN_IF_ERROR(op, kernels::Pointwise(a.dtype(), p, StreamOf(ctx)));
  return OkStatus();
}

// A contiguous host copy of a (possibly strided) host tensor, same dtype.
Tensor ContiguousHost(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor c = Tensor::EmptyHost(t.shape(), t.dtype());
  const size_t es = DTypeSize(t.dtype());
  for (int64_t i = 0; i < t.numel(); ++i) {
    int64_t off = 0, rem = i;
    for (int d = t.rank() - 1; d >= 0; --d) {
      off += (rem % t.dim(d)) * t.stride(d);
      rem /= t.dim(d);
    }
    std::memcpy(static_cast<char*>(c.data()) + i * es, static_cast<const char*>(t.data()) + off * es,
                es);
  }
  return c;
}

Status DeviceToDevice(const ExecCtx& ctx, const Tensor& src, Tensor& dst) {
  constexpr const char* kOp = "cuda::Copy";
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaMemcpyAsync(dst.data(), src.data(), src.nbytes(),
                                                      cudaMemcpyDeviceToDevice, StreamOf(ctx)));
    return OkStatus();
  }
  if (src.dtype() != dst.dtype()) {
    RETURN_IF_ERROR(CheckFloat(kOp, src, "src"));
    RETURN_IF_ERROR(CheckFloat(kOp, dst, "dst"));
  }
  kernels::StridedCopyArgs a;
  RETURN_IF_ERROR(ToStridedArgs(kOp, src, dst, a));
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, kernels::StridedCopy(src.dtype(), dst.dtype(), a, StreamOf(ctx)));
  return OkStatus();
}

Status HostToDevice(const ExecCtx& ctx, const Tensor& src, Tensor& dst) {
  constexpr const char* kOp = "cuda::Copy";
  Tensor h = ContiguousHost(src);
  if (h.dtype() == dst.dtype() && dst.is_contiguous()) {
    // Pageable host memory is staged before cudaMemcpyAsync returns, so `h` may die after this.
    PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaMemcpyAsync(dst.data(), h.data(), h.nbytes(),
                                                      cudaMemcpyHostToDevice, StreamOf(ctx)));
    return OkStatus();
  }
  ASSIGN_OR_RETURN(Tensor tmp, Scratch(kOp, ctx, h.numel(), h.dtype()));
  tmp = tmp.Reshape(h.shape());
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaMemcpyAsync(tmp.data(), h.data(), h.nbytes(),
                                                    cudaMemcpyHostToDevice, StreamOf(ctx)));
  return DeviceToDevice(ctx, tmp, dst);
}

Status DeviceToHost(const ExecCtx& ctx, const Tensor& src, Tensor& dst) {
  constexpr const char* kOp = "cuda::Copy";
  Tensor dev = src;
  Tensor tmp;
  if (src.dtype() != dst.dtype() || !src.is_contiguous()) {
    ASSIGN_OR_RETURN(tmp, Scratch(kOp, ctx, src.numel(), dst.dtype()));
    tmp = tmp.Reshape(src.shape());
    RETURN_IF_ERROR(DeviceToDevice(ctx, src, tmp));
    dev = tmp;
  }
  Tensor host = dst.is_contiguous() ? dst : Tensor::EmptyHost(dst.shape(), dst.dtype());
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaMemcpyAsync(host.data(), dev.data(), dev.nbytes(),
                                                    cudaMemcpyDeviceToHost, StreamOf(ctx)));
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaStreamSynchronize(StreamOf(ctx)));
  if (!dst.is_contiguous()) {
    const size_t es = DTypeSize(dst.dtype());
    for (int64_t i = 0; i < dst.numel(); ++i) {
      int64_t off = 0, rem = i;
      for (int d = dst.rank() - 1; d >= 0; --d) {
        off += (rem % dst.dim(d)) * dst.stride(d);
        rem /= dst.dim(d);
      }
      std::memcpy(static_cast<char*>(dst.data()) + off * es,
                  static_cast<const char*>(host.data()) + i * es, es);
    }
  }
  return OkStatus();
}

}  // namespace

Status Activate(const ExecCtx& ctx, ops::Activation act, const Tensor& x, Tensor& out) {
  PointwiseArgs p;
  p.op = PointwiseOp::kAct;
  p.act = static_cast<int>(act);
  return RunPointwise("cuda::Activate", ctx, p, x, nullptr, out);
}

Status Add(const ExecCtx& ctx, const Tensor& a, const Tensor& b, Tensor& out) {
  PointwiseArgs p;
  p.op = PointwiseOp::kAdd;
  return RunPointwise("cuda::Add", ctx, p, a, &b, out);
}

Status Scale(const ExecCtx& ctx, const Tensor& x, float s, Tensor& out) {
  PointwiseArgs p;
  p.op = PointwiseOp::kScale;
  p.scalar = s;
  return RunPointwise("cuda::Scale", ctx, p, x, nullptr, out);
}

Status SoftCap(const ExecCtx& ctx, Tensor& x, float cap) {
  if (!(cap > 0.f)) return InvalidArgumentError("cuda::SoftCap: cap must be > 0");
  PointwiseArgs p;
  p.op = PointwiseOp::kSoftCap;
  p.scalar = cap;
  return RunPointwise("cuda::SoftCap", ctx, p, x, nullptr, x);
}

Status GatedActivation(const ExecCtx& ctx, ops::Activation act, const Tensor& x, Tensor& out) {
  constexpr const char* kOp = "cuda::GatedActivation";
  RETURN_IF_ERROR(CheckOnDevice(kOp, ctx, {&x, &out}));
  RETURN_IF_ERROR(CheckFloat(kOp, x, "x"));
  RETURN_IF_ERROR(CheckSameDType(kOp, x, out));
  ASSIGN_OR_RETURN(MatView xv, AsLastDimRows(kOp, x));
  ASSIGN_OR_RETURN(MatView ov, AsLastDimRows(kOp, out));
  if (xv.cols % 2 || ov.cols * 2 != xv.cols || ov.rows != xv.rows)
    return InvalidArgumentError(fmt::format("{}: x {} must be [T, 2I] and out {} [T, I]", kOp,
                                            x.shape().ToString(), out.shape().ToString()));
  PointwiseArgs p;
  p.op = PointwiseOp::kGated;
  p.act = static_cast<int>(act);
  p.a = xv.m;
  p.b = {static_cast<const char*>(x.data()) + ov.cols * DTypeSize(x.dtype()), xv.m.stride};
  p.out = out.data();
  p.out_stride = ov.m.stride;
  p.rows = xv.rows;
  p.cols = ov.cols;
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, kernels::Pointwise(x.dtype(), p, StreamOf(ctx)));
  return OkStatus();
}

Status Copy(const ExecCtx& ctx, const Tensor& src, Tensor& dst) {
  constexpr const char* kOp = "cuda::Copy";
  RETURN_IF_ERROR(CheckSameShape(kOp, src, dst));
  if (src.numel() == 0) return OkStatus();
  const Device dev = src.device().is_cuda() ? src.device() : dst.device();
  if (!dev.is_cuda())
    return InvalidArgumentError(fmt::format("{}: neither tensor is on a CUDA device", kOp));
  if ((src.device().is_cuda() && src.device() != dev) || (dst.device().is_cuda() && dst.device() != dev))
    return UnimplementedError(fmt::format("{}: copies between two CUDA devices", kOp));
  if (src.dtype() != dst.dtype() && (!IsFloating(src.dtype()) || !IsFloating(dst.dtype())))
    return InvalidArgumentError(fmt::format("{}: cannot convert {} to {}", kOp,
                                            DTypeName(src.dtype()), DTypeName(dst.dtype())));
  ExecCtx c = ctx;
  c.device = dev;
  RETURN_IF_ERROR(UseDevice(kOp, c));
  if (src.device().is_cpu()) return HostToDevice(c, src, dst);
  if (dst.device().is_cpu()) return DeviceToHost(c, src, dst);
  return DeviceToDevice(c, src, dst);
}

Status GatherRows(const ExecCtx& ctx, const Tensor& x, const Tensor& rows, Tensor& out) {
  constexpr const char* kOp = "cuda::GatherRows";
  RETURN_IF_ERROR(CheckOnDevice(kOp, ctx, {&x, &rows, &out}));
  RETURN_IF_ERROR(CheckSameDType(kOp, x, out));
  if (rows.dtype() != DType::kI32 || rows.rank() != 1 || !rows.is_contiguous())
    return InvalidArgumentError(fmt::format("{}: rows must be contiguous 1-D int32", kOp));
  if (x.rank() != 2 || out.rank() != 2 || out.dim(0) != rows.dim(0) || out.dim(1) != x.dim(1))
    return InvalidArgumentError(fmt::format("{}: x {} rows {} out {} do not match", kOp,
                                            x.shape().ToString(), rows.shape().ToString(),
                                            out.shape().ToString()));
  if ((x.dim(1) > 1 && x.stride(1) != 1) || (out.dim(1) > 1 && out.stride(1) != 1))
    return InvalidArgumentError(fmt::format("{}: rows must be contiguous", kOp));
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  const int64_t es = static_cast<int64_t>(DTypeSize(x.dtype()));
  PAGELLM_CUDA_RETURN_IF_ERROR(
      kOp, kernels::GatherRows(x.data(), x.stride(0) * es, x.dim(0), rows.data<int32_t>(),
                               rows.dim(0), out.data(), out.stride(0) * es, x.dim(1) * es,
                               StreamOf(ctx)));
  return OkStatus();
}

Status Embedding(const ExecCtx& ctx, const Tensor& ids, const Tensor& table, Tensor& out) {
  Status st = GatherRows(ctx, table, ids, out);
  if (st.ok()) return st;
  return Status(st.code(), "cuda::Embedding: " + st.message());
}

}  // namespace pagellm::cuda

// Host wrappers: RmsNorm, AddRmsNorm, LayerNorm, ApplyRotary, WriteKVCache.
#include <fmt/format.h>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_ops.h"

namespace pagellm::cuda {
namespace {

using kernels::NormArgs;
using kernels::NormKind;

Status CheckVector(const char* op, const ExecCtx& ctx, const Tensor& v, int64_t n, const char* name) {
  RETURN_IF_ERROR(CheckOnDevice(op, ctx, {&v}));
  RETURN_IF_ERROR(CheckFloat(op, v, name));
  if (v.numel() != n || !v.is_contiguous())
    return InvalidArgumentError(fmt::format("{}: {} must be contiguous [{}], got {}", op, name, n,
                                            v.shape().ToString()));
  return OkStatus();
}

Status RunNorm(const char* op, const ExecCtx& ctx, NormArgs p, const Tensor& x, Tensor* residual,
               const Tensor& weight, const Tensor* bias, Tensor& out) {
  RETURN_IF_ERROR(CheckOnDevice(op, ctx, {&x, &out}));
  RETURN_IF_ERROR(CheckFloat(op, x, "x"));
  RETURN_IF_ERROR(CheckSameDType(op, x, out));
  RETURN_IF_ERROR(CheckSameShape(op, x, out));
  ASSIGN_OR_RETURN(MatView xv, AsLastDimRows(op, x));
  ASSIGN_OR_RETURN(MatView ov, AsLastDimRows(op, out));
  RETURN_IF_ERROR(CheckVector(op, ctx, weight, xv.cols, "weight"));
  if (bias) RETURN_IF_ERROR(CheckVector(op, ctx, *bias, xv.cols, "bias"));
  if (residual) {
    RETURN_IF_ERROR(CheckOnDevice(op, ctx, {residual}));
    RETURN_IF_ERROR(CheckSameDType(op, x, *residual));
    RETURN_IF_ERROR(CheckSameShape(op, x, *residual));
    ASSIGN_OR_RETURN(MatView rv, AsLastDimRows(op, *residual));
    p.residual = const_cast<void*>(rv.m.ptr);
    p.residual_stride = rv.m.stride;
  }
  p.x = xv.m;
  p.weight = weight.data();
  p.weight_t = weight.dtype();
  if (bias) {
    p.bias = bias->data();
    p.bias_t = bias->dtype();
  }
  p.out = out.data();
  p.out_stride = ov.m.stride;
  p.rows = xv.rows;
  p.cols = xv.cols;
  RETURN_IF_ERROR(UseDevice(op, ctx));
  PAGELLM_CUDA_RETURN_IF_ERROR(op, kernels::Norm(x.dtype(), p, StreamOf(ctx)));
  return OkStatus();
}

Status CheckIndex(const char* op, const ExecCtx& ctx, const Tensor& t, int64_t n, const char* name) {
  RETURN_IF_ERROR(CheckOnDevice(op, ctx, {&t}));
  if (t.dtype() != DType::kI32 || t.numel() != n || !t.is_contiguous())
    return InvalidArgumentError(fmt::format("{}: {} must be contiguous int32 [{}], got {} {}", op,
                                            name, n, DTypeName(t.dtype()), t.shape().ToString()));
  return OkStatus();
}

}  // namespace

Status RmsNorm(const ExecCtx& ctx, const Tensor& x, const Tensor& weight, float eps,
               float weight_offset, Tensor& out) {
  NormArgs p;
  p.kind = NormKind::kRms;
  p.eps = eps;
  p.weight_offset = weight_offset;
  return RunNorm("cuda::RmsNorm", ctx, p, x, nullptr, weight, nullptr, out);
}

Status AddRmsNorm(const ExecCtx& ctx, const Tensor& x, Tensor& residual, const Tensor& weight,
                  float eps, float weight_offset, Tensor& out) {
  NormArgs p;
  p.kind = NormKind::kAddRms;
  p.eps = eps;
  p.weight_offset = weight_offset;
  return RunNorm("cuda::AddRmsNorm", ctx, p, x, &residual, weight, nullptr, out);
}

Status LayerNorm(const ExecCtx& ctx, const Tensor& x, const Tensor& weight, const Tensor* bias,
                 float eps, Tensor& out) {
  NormArgs p;
  p.kind = NormKind::kLayer;
  p.eps = eps;
  return RunNorm("cuda::LayerNorm", ctx, p, x, nullptr, weight, bias, out);
}

Status ApplyRotary(const ExecCtx& ctx, const Tensor& positions, const Tensor& cos_sin, int rot_dim,
                   ops::RopeStyle style, Tensor& q, Tensor& k) {
  constexpr const char* kOp = "cuda::ApplyRotary";
  const bool has_k = k.defined() && k.numel() > 0;
  RETURN_IF_ERROR(CheckOnDevice(kOp, ctx, {&q, &cos_sin}));
  RETURN_IF_ERROR(CheckFloat(kOp, q, "q"));
  ASSIGN_OR_RETURN(HeadView qv, AsHeads(kOp, q, "q"));
  if (qv.tokens == 0) return OkStatus();
  RETURN_IF_ERROR(CheckIndex(kOp, ctx, positions, qv.tokens, "positions"));
  HeadView kv;
  if (has_k) {
    RETURN_IF_ERROR(CheckOnDevice(kOp, ctx, {&k}));
    RETURN_IF_ERROR(CheckSameDType(kOp, q, k));
    ASSIGN_OR_RETURN(kv, AsHeads(kOp, k, "k"));
    if (kv.tokens != qv.tokens || kv.dim != qv.dim)
      return InvalidArgumentError(fmt::format("{}: q {} and k {} disagree", kOp,
                                              q.shape().ToString(), k.shape().ToString()));
  }
  if (rot_dim <= 0 || rot_dim % 2 || rot_dim > qv.dim)
    return InvalidArgumentError(fmt::format("{}: rot_dim {} must be even and in (0, {}]", kOp,
                                            rot_dim, qv.dim));
  if (cos_sin.dtype() != DType::kF32 || cos_sin.rank() != 2 || cos_sin.dim(1) != rot_dim ||
      !cos_sin.is_contiguous())
    return InvalidArgumentError(fmt::format("{}: cos_sin must be contiguous f32 [P, {}], got {}",
                                            kOp, rot_dim, cos_sin.shape().ToString()));
  kernels::RotaryArgs a;
  a.positions = positions.data<int32_t>();
  a.cos_sin = cos_sin.data<float>();
  a.max_positions = cos_sin.dim(0);
  a.rot_dim = rot_dim;
  a.neox = style == ops::RopeStyle::kNeox;
  a.num_tokens = qv.tokens;
  a.q = q.data();
  a.q_stride_t = qv.stride_t;
  a.q_stride_h = qv.stride_h;
  a.num_q_heads = static_cast<int>(qv.heads);
  if (has_k) {
    a.k = k.data();
    a.k_stride_t = kv.stride_t;
    a.k_stride_h = kv.stride_h;
    a.num_k_heads = static_cast<int>(kv.heads);
  }
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, kernels::Rotary(q.dtype(), a, StreamOf(ctx)));
  return OkStatus();
}

Status WriteKVCache(const ExecCtx& ctx, const Tensor& k, const Tensor& v,
                    const AttentionMetadata& meta, Tensor& k_cache, Tensor& v_cache) {
  constexpr const char* kOp = "cuda::WriteKVCache";
  RETURN_IF_ERROR(CheckOnDevice(kOp, ctx, {&k, &v, &k_cache, &v_cache}));
  RETURN_IF_ERROR(CheckSameDType(kOp, k, v));
  RETURN_IF_ERROR(CheckSameDType(kOp, k, k_cache));
  RETURN_IF_ERROR(CheckSameDType(kOp, k, v_cache));
  ASSIGN_OR_RETURN(HeadView kh, AsHeads(kOp, k, "k"));
  ASSIGN_OR_RETURN(HeadView vh, AsHeads(kOp, v, "v"));
  if (vh.tokens != kh.tokens || vh.heads != kh.heads || vh.dim != kh.dim)
    return InvalidArgumentError(fmt::format("{}: k {} and v {} disagree", kOp,
                                            k.shape().ToString(), v.shape().ToString()));
  if (k_cache.rank() != 4 || k_cache.dim(2) != kh.heads || k_cache.dim(3) != kh.dim ||
      !(k_cache.shape() == v_cache.shape()) || !k_cache.is_contiguous() ||
      !v_cache.is_contiguous())
    return InvalidArgumentError(fmt::format(
        "{}: caches must be contiguous [blocks, block_size, {}, {}], got {} and {}", kOp,
        kh.heads, kh.dim, k_cache.shape().ToString(), v_cache.shape().ToString()));
  if (kh.tokens == 0) return OkStatus();
  RETURN_IF_ERROR(CheckIndex(kOp, ctx, meta.slot_mapping, kh.tokens, "meta.slot_mapping"));
  kernels::KVWriteArgs a;
  a.k = k.data();
  a.v = v.data();
  a.k_stride_t = kh.stride_t;
  a.k_stride_h = kh.stride_h;
  a.v_stride_t = vh.stride_t;
  a.v_stride_h = vh.stride_h;
  a.slot_mapping = meta.slot_mapping.data<int32_t>();
  a.num_tokens = kh.tokens;
  a.num_slots = k_cache.dim(0) * k_cache.dim(1);
  a.num_kv_heads = static_cast<int>(kh.heads);
  a.head_dim = static_cast<int>(kh.dim);
  a.k_cache = k_cache.data();
  a.v_cache = v_cache.data();
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, kernels::WriteKV(k.dtype(), a, StreamOf(ctx)));
  return OkStatus();
}

}  // namespace pagellm::cuda

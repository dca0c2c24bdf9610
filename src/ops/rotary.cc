// Device switch for ApplyRotary and ApplyRotaryWriteKV.
#include "ops/cuda_dispatch.h"
#include "ops/op_checks.h"
#include "ops/ops.h"

namespace pagellm::ops {

namespace internal {

StatusOr<RotaryDims> CheckRotary(const ExecCtx& ctx, const char* op, const Tensor& positions,
                                 const Tensor& cos_sin, int rot_dim, const Tensor& q,
                                 const Tensor& k) {
  RETURN_IF_ERROR(CheckIndexOn(ctx, op, "positions", positions));
  RETURN_IF_ERROR(CheckOn(ctx, op, "cos_sin", cos_sin));
  RETURN_IF_ERROR(CheckFloatOn(ctx, op, "q", q));
  RETURN_IF_ERROR(CheckFloatOn(ctx, op, "k", k));
  RotaryDims r;
  ASSIGN_OR_RETURN(r.ldq, TokenHeadStride(op, "q", q));
  ASSIGN_OR_RETURN(r.ldk, TokenHeadStride(op, "k", k));
  r.tokens = positions.dim(0);
  r.head_dim = q.dim(2);
  if (q.dim(0) != r.tokens || k.dim(0) != r.tokens || k.dim(2) != r.head_dim)
    return Error(op, "k",
                 "must match q [" + std::to_string(r.tokens) + ", *, " +
                     std::to_string(r.head_dim) + "]",
                 k);
  if (rot_dim <= 0 || rot_dim % 2 != 0 || rot_dim > r.head_dim)
    return InvalidArgumentError(std::string(op) + ": rot_dim " + std::to_string(rot_dim) +
                                " must be even and in (0, head_dim=" +
                                std::to_string(r.head_dim) + "]");
  if (cos_sin.dtype() != DType::kF32 || cos_sin.rank() != 2 || cos_sin.dim(1) != rot_dim ||
      !cos_sin.is_contiguous())
    return Error(op, "cos_sin", "must be contiguous f32 [max_positions, rot_dim]", cos_sin);
  return r;
}

}  // namespace internal

Status ApplyRotary(const ExecCtx& ctx, const Tensor& positions, const Tensor& cos_sin, int rot_dim,
                   RopeStyle style, Tensor& q, Tensor& k) {
  ASSIGN_OR_RETURN(internal::RotaryDims r,
                   internal::CheckRotary(ctx, "ApplyRotary", positions, cos_sin, rot_dim, q, k));
  return PAGELLM_DISPATCH(ctx, ApplyRotary, positions.data<int32_t>(), r.tokens,
                          cos_sin.data<float>(), cos_sin.dim(0), rot_dim, style, q.data(),
                          q.dtype(), r.ldq, q.dim(1), k.data(), k.dtype(), r.ldk, k.dim(1),
                          r.head_dim);
}

Status ApplyRotaryWriteKV(const ExecCtx& ctx, const Tensor& cos_sin, int rot_dim, RopeStyle style,
                          Tensor& q, Tensor& k, const Tensor& v, const AttentionMetadata& meta,
                          Tensor& k_cache, Tensor& v_cache) {
  constexpr const char* kOp = "ApplyRotaryWriteKV";
  ASSIGN_OR_RETURN(internal::RotaryDims r,
                   internal::CheckRotary(ctx, kOp, meta.positions, cos_sin, rot_dim, q, k));
  ASSIGN_OR_RETURN(internal::KVWriteDims w,
                   internal::CheckKVWrite(ctx, kOp, k, v, meta, k_cache, v_cache));
  return PAGELLM_DISPATCH(ctx, ApplyRotaryWriteKV, r.tokens, cos_sin.data<float>(),
                          cos_sin.dim(0), rot_dim, style, q.data(), q.dtype(), r.ldq, q.dim(1),
                          k.data(), k.dtype(), r.ldk, v.data(), v.dtype(), w.ldv, k.dim(1),
                          r.head_dim, meta, k_cache.data(), v_cache.data(), k_cache.dtype(),
                          k_cache.dim(0), k_cache.dim(1));
}

}  // namespace pagellm::ops

// Device switch for ApplyRotary.
#include "ops/cuda_dispatch.h"
#include "ops/op_checks.h"
#include "ops/ops.h"

namespace pagellm::ops {

Status ApplyRotary(const ExecCtx& ctx, const Tensor& positions, const Tensor& cos_sin, int rot_dim,
                   RopeStyle style, Tensor& q, Tensor& k) {
  constexpr const char* kOp = "ApplyRotary";
  RETURN_IF_ERROR(internal::CheckIndexOn(ctx, kOp, "positions", positions));
  RETURN_IF_ERROR(internal::CheckOn(ctx, kOp, "cos_sin", cos_sin));
  RETURN_IF_ERROR(internal::CheckFloatOn(ctx, kOp, "q", q));
  RETURN_IF_ERROR(internal::CheckFloatOn(ctx, kOp, "k", k));
  ASSIGN_OR_RETURN(int64_t ldq, internal::TokenHeadStride(kOp, "q", q));
  ASSIGN_OR_RETURN(int64_t ldk, internal::TokenHeadStride(kOp, "k", k));
  int64_t t = positions.dim(0), d = q.dim(2);
  if (q.dim(0) != t || k.dim(0) != t || k.dim(2) != d)
    return internal::Error(
        kOp, "k", "must match q [" + std::to_string(t) + ", *, " + std::to_string(d) + "]", k);
  if (rot_dim <= 0 || rot_dim % 2 != 0 || rot_dim > d)
    return InvalidArgumentError("ApplyRotary: rot_dim " + std::to_string(rot_dim) +
                                " must be even and in (0, head_dim=" + std::to_string(d) + "]");
  if (cos_sin.dtype() != DType::kF32 || cos_sin.rank() != 2 || cos_sin.dim(1) != rot_dim ||
      !cos_sin.is_contiguous())
    return internal::Error(kOp, "cos_sin", "must be contiguous f32 [max_positions, rot_dim]",
                           cos_sin);
  return PAGELLM_DISPATCH(ctx, ApplyRotary, positions.data<int32_t>(), t, cos_sin.data<float>(),
                          cos_sin.dim(0), rot_dim, style, q.data(), q.dtype(), ldq, q.dim(1),
                          k.data(), k.dtype(), ldk, k.dim(1), d);
}

}  // namespace pagellm::ops

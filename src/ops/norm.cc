// Device switch for RmsNorm, AddRmsNorm and LayerNorm.
#include "ops/cuda_dispatch.h"
#include "ops/op_checks.h"
#include "ops/ops.h"

namespace pagellm::ops {
namespace {

using internal::AsRows;
using internal::CheckFloatOn;
using internal::Rows;

// x and out share the shape [..., hidden]; weight is [hidden] contiguous.
StatusOr<Rows> CheckNormArgs(const ExecCtx& ctx, const char* op, const Tensor& x,
                             const Tensor& weight, const Tensor& out) {
  RETURN_IF_ERROR(CheckFloatOn(ctx, op, "x", x));
  RETURN_IF_ERROR(CheckFloatOn(ctx, op, "weight", weight));
  RETURN_IF_ERROR(CheckFloatOn(ctx, op, "out", out));
  ASSIGN_OR_RETURN(Rows xr, AsRows(op, "x", x));
  RETURN_IF_ERROR(internal::CheckShape(op, "weight", weight, Shape{xr.width}));
  RETURN_IF_ERROR(internal::CheckContiguous(op, "weight", weight));
  RETURN_IF_ERROR(internal::CheckShape(op, "out", out, x.shape()));
  return xr;
}

// [T, H, D] views strided over tokens (q/k slices of a fused qkv, for per-head q/k norms) are
// not uniformly strided rows: normalize them one token at a time.
bool IsTokenStridedHeads(const Tensor& t) {
  return t.rank() == 3 && t.dim(0) > 1 && t.dim(1) > 1 && t.stride(2) == 1 &&
         t.stride(1) == t.dim(2) && t.stride(0) != t.dim(1) * t.dim(2);
}

}  // namespace

Status RmsNorm(const ExecCtx& ctx, const Tensor& x, const Tensor& weight, float eps,
               float weight_offset, Tensor& out) {
  if (IsTokenStridedHeads(x) || IsTokenStridedHeads(out)) {
    RETURN_IF_ERROR(internal::CheckShape("RmsNorm", "out", out, x.shape()));
    for (int64_t t = 0; t < x.dim(0); ++t) {
      Tensor xt = x.Select(t), ot = out.Select(t);
      RETURN_IF_ERROR(RmsNorm(ctx, xt, weight, eps, weight_offset, ot));
    }
    return OkStatus();
  }
  ASSIGN_OR_RETURN(Rows xr, CheckNormArgs(ctx, "RmsNorm", x, weight, out));
  ASSIGN_OR_RETURN(Rows o, AsRows("RmsNorm", "out", out));
  return PAGELLM_DISPATCH(ctx, RmsNorm, x.data(), x.dtype(), xr.ld, weight.data(), weight.dtype(),
                          eps, weight_offset, out.data(), out.dtype(), o.ld, xr.rows, xr.width);
}

Status AddRmsNorm(const ExecCtx& ctx, const Tensor& x, Tensor& residual, const Tensor& weight,
                  float eps, float weight_offset, Tensor& out) {
  constexpr const char* kOp = "AddRmsNorm";
  ASSIGN_OR_RETURN(Rows xr, CheckNormArgs(ctx, kOp, x, weight, out));
  RETURN_IF_ERROR(CheckFloatOn(ctx, kOp, "residual", residual));
  RETURN_IF_ERROR(internal::CheckShape(kOp, "residual", residual, x.shape()));
  ASSIGN_OR_RETURN(Rows rr, AsRows(kOp, "residual", residual));
  ASSIGN_OR_RETURN(Rows o, AsRows(kOp, "out", out));
  return PAGELLM_DISPATCH(ctx, AddRmsNorm, x.data(), x.dtype(), xr.ld, residual.data(),
                          residual.dtype(), rr.ld, weight.data(), weight.dtype(), eps,
                          weight_offset, out.data(), out.dtype(), o.ld, xr.rows, xr.width);
}

Status LayerNorm(const ExecCtx& ctx, const Tensor& x, const Tensor& weight, const Tensor* bias,
                 float eps, Tensor& out) {
  constexpr const char* kOp = "LayerNorm";
  ASSIGN_OR_RETURN(Rows xr, CheckNormArgs(ctx, kOp, x, weight, out));
  ASSIGN_OR_RETURN(Rows o, AsRows(kOp, "out", out));
  const void* b = nullptr;
  DType bt = DType::kF32;
  if (bias) {
    RETURN_IF_ERROR(CheckFloatOn(ctx, kOp, "bias", *bias));
    RETURN_IF_ERROR(internal::CheckShape(kOp, "bias", *bias, Shape{xr.width}));
    RETURN_IF_ERROR(internal::CheckContiguous(kOp, "bias", *bias));
    b = bias->data();
    bt = bias->dtype();
  }
  return PAGELLM_DISPATCH(ctx, LayerNorm, x.data(), x.dtype(), xr.ld, weight.data(), weight.dtype(),
                          b, bt, eps, out.data(), out.dtype(), o.ld, xr.rows, xr.width);
}

}  // namespace pagellm::ops

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

}  // namespace

Status RmsNorm(const ExecCtx& ctx, const Tensor& x, const Tensor& weight, float eps,
               float weight_offset, Tensor& out) {
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
  return PAGELLM_DISPATCH(ctx, LayerNorm, x.data(), x.dtype(), xr.ld, weight.data(),
                          weight.dtype(), b, bt, eps, out.data(), out.dtype(), o.ld, xr.rows,
                          xr.width);
}

}  // namespace pagellm::ops

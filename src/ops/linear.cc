// Device switch for Linear, Embedding and GatherRows.
#include "base/status.h"
#include "ops/cuda_dispatch.h"
#include "ops/op_checks.h"
#include "ops/ops.h"

namespace pagellm::ops {

using internal::AsRows;
using internal::CheckFloatOn;
using internal::Rows;

Status Linear(const ExecCtx& ctx, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
  constexpr const char* kOp = "Linear";
  RETURN_IF_ERROR(CheckFloatOn(ctx, kOp, "x", x));
  RETURN_IF_ERROR(CheckFloatOn(ctx, kOp, "w", w));
  RETURN_IF_ERROR(CheckFloatOn(ctx, kOp, "y", y));
  if (w.rank() != 2) return internal::Error(kOp, "w", "must be [out, in]", w);
  RETURN_IF_ERROR(internal::CheckContiguous(kOp, "w", w));
  int64_t n = w.dim(0), k = w.dim(1);
  if (x.rank() != 2 || x.dim(1) != k)
    return internal::Error(kOp, "x", "must be [T, " + std::to_string(k) + "]", x);
  RETURN_IF_ERROR(internal::CheckShape(kOp, "y", y, Shape{x.dim(0), n}));
  ASSIGN_OR_RETURN(Rows xr, AsRows(kOp, "x", x));
  ASSIGN_OR_RETURN(Rows yr, AsRows(kOp, "y", y));
  if (x.dim(0) > 0 && n > 0 && k > 0 && x.data() == y.data())
    return internal::Error(kOp, "y", "must not alias x", y);
  const void* b = nullptr;
  DType bt = DType::kF32;
  if (bias) {
    RETURN_IF_ERROR(CheckFloatOn(ctx, kOp, "bias", *bias));
    RETURN_IF_ERROR(internal::CheckShape(kOp, "bias", *bias, Shape{n}));
    RETURN_IF_ERROR(internal::CheckContiguous(kOp, "bias", *bias));
    b = bias->data();
    bt = bias->dtype();
  }
  return PAGELLM_DISPATCH_SHAPED(ctx, n, k, Linear, x.data(), x.dtype(), xr.ld, w.data(), w.dtype(), b, bt,
                          y.data(), y.dtype(), yr.ld, x.dim(0), n, k);
}

Status Embedding(const ExecCtx& ctx, const Tensor& ids, const Tensor& table, Tensor& out) {
  constexpr const char* kOp = "Embedding";
  RETURN_IF_ERROR(internal::CheckIndexOn(ctx, kOp, "ids", ids));
  RETURN_IF_ERROR(CheckFloatOn(ctx, kOp, "table", table));
  RETURN_IF_ERROR(CheckFloatOn(ctx, kOp, "out", out));
  if (table.rank() != 2) return internal::Error(kOp, "table", "must be [vocab, hidden]", table);
  RETURN_IF_ERROR(internal::CheckContiguous(kOp, "table", table));
  RETURN_IF_ERROR(internal::CheckShape(kOp, "out", out, Shape{ids.dim(0), table.dim(1)}));
  ASSIGN_OR_RETURN(Rows o, AsRows(kOp, "out", out));
  return PAGELLM_DISPATCH(ctx, Embedding, ids.data<int32_t>(), ids.dim(0), table.data(),
                          table.dtype(), table.dim(0), table.dim(1), out.data(), out.dtype(), o.ld);
}

Status GatherRows(const ExecCtx& ctx, const Tensor& x, const Tensor& rows, Tensor& out) {
  constexpr const char* kOp = "GatherRows";
  RETURN_IF_ERROR(internal::CheckIndexOn(ctx, kOp, "rows", rows));
  RETURN_IF_ERROR(CheckFloatOn(ctx, kOp, "x", x));
  RETURN_IF_ERROR(CheckFloatOn(ctx, kOp, "out", out));
  if (x.rank() != 2) return internal::Error(kOp, "x", "must be [N, width]", x);
  RETURN_IF_ERROR(internal::CheckShape(kOp, "out", out, Shape{rows.dim(0), x.dim(1)}));
  ASSIGN_OR_RETURN(Rows xr, AsRows(kOp, "x", x));
  ASSIGN_OR_RETURN(Rows o, AsRows(kOp, "out", out));
  return PAGELLM_DISPATCH(ctx, GatherRows, x.data(), x.dtype(), xr.ld, x.dim(0),
                          rows.data<int32_t>(), rows.dim(0), x.dim(1), out.data(), out.dtype(),
                          o.ld);
}

}  // namespace pagellm::ops

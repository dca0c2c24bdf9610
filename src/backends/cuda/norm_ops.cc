// CUDA entry points: RmsNorm, AddRmsNorm, LayerNorm, ApplyRotary, WriteKVCache and the fused
// ApplyRotaryWriteKV.
#include <fmt/format.h>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_ops.h"

namespace pagellm::cuda {
namespace {

using kernels::NormArgs;
using kernels::NormKind;

Status RunNorm(const char* op, const ExecCtx& ctx, NormArgs& p, DType x_dtype, DType out_dtype) {
  RETURN_IF_ERROR(CheckFloat(op, out_dtype, "out"));
  RETURN_IF_ERROR(CheckFloat(op, p.weight_t, "weight"));
  if (p.bias) RETURN_IF_ERROR(CheckFloat(op, p.bias_t, "bias"));
  RETURN_IF_ERROR(UseDevice(op, ctx));
  PAGELLM_CUDA_RETURN_IF_ERROR(op, kernels::Norm(x_dtype, out_dtype, p, StreamOf(ctx)));
  return OkStatus();
}

}  // namespace

Status RmsNorm(const ExecCtx& ctx, const void* x, DType x_dtype, int64_t ldx, const void* weight,
               DType w_dtype, float eps, float weight_offset, void* out, DType out_dtype,
               int64_t ldo, int64_t rows, int64_t hidden) {
  constexpr const char* kOp = "cuda::RmsNorm";
  RETURN_IF_ERROR(CheckFloat(kOp, x_dtype, "x"));
  NormArgs p;
  p.kind = NormKind::kRms;
  p.x = {x, ldx};
  p.weight = weight;
  p.weight_t = w_dtype;
  p.eps = eps;
  p.weight_offset = weight_offset;
  p.out = out;
  p.out_stride = ldo;
  p.rows = rows;
  p.cols = hidden;
  return RunNorm(kOp, ctx, p, x_dtype, out_dtype);
}

Status AddRmsNorm(const ExecCtx& ctx, const void* x, DType x_dtype, int64_t ldx, void* residual,
                  DType r_dtype, int64_t ldr, const void* weight, DType w_dtype, float eps,
                  float weight_offset, void* out, DType out_dtype, int64_t ldo, int64_t rows,
                  int64_t hidden) {
  constexpr const char* kOp = "cuda::AddRmsNorm";
  RETURN_IF_ERROR(CheckOneDType(kOp, {x_dtype, r_dtype}));
  NormArgs p;
  p.kind = NormKind::kAddRms;
  p.x = {x, ldx};
  p.residual = residual;
  p.residual_stride = ldr;
  p.weight = weight;
  p.weight_t = w_dtype;
  p.eps = eps;
  p.weight_offset = weight_offset;
  p.out = out;
  p.out_stride = ldo;
  p.rows = rows;
  p.cols = hidden;
  return RunNorm(kOp, ctx, p, x_dtype, out_dtype);
}

Status LayerNorm(const ExecCtx& ctx, const void* x, DType x_dtype, int64_t ldx, const void* weight,
                 DType w_dtype, const void* bias, DType b_dtype, float eps, void* out,
                 DType out_dtype, int64_t ldo, int64_t rows, int64_t hidden) {
  constexpr const char* kOp = "cuda::LayerNorm";
  RETURN_IF_ERROR(CheckFloat(kOp, x_dtype, "x"));
  NormArgs p;
  p.kind = NormKind::kLayer;
  p.x = {x, ldx};
  p.weight = weight;
  p.weight_t = w_dtype;
  p.bias = bias;
  p.bias_t = b_dtype;
  p.eps = eps;
  p.out = out;
  p.out_stride = ldo;
  p.rows = rows;
  p.cols = hidden;
  return RunNorm(kOp, ctx, p, x_dtype, out_dtype);
}

namespace {

StatusOr<kernels::RotaryArgs> RotaryArgsFor(const char* op, const int32_t* positions,
                                            int64_t num_tokens, const float* cos_sin,
                                            int64_t max_positions, int rot_dim,
                                            ops::RopeStyle style, void* q, DType q_dtype,
                                            int64_t ldq, int64_t hq, void* k, DType k_dtype,
                                            int64_t ldk, int64_t hk, int64_t head_dim) {
  if (k && hk > 0) {
    RETURN_IF_ERROR(CheckOneDType(op, {q_dtype, k_dtype}));
  } else {
    RETURN_IF_ERROR(CheckFloat(op, q_dtype, "q"));
  }
  if (rot_dim <= 0 || rot_dim % 2 || rot_dim > head_dim)
    return InvalidArgumentError(
        fmt::format("{}: rot_dim {} must be even and in (0, {}]", op, rot_dim, head_dim));
  kernels::RotaryArgs a;
  a.positions = positions;
  a.cos_sin = cos_sin;
  a.max_positions = max_positions;
  a.rot_dim = rot_dim;
  a.neox = style == ops::RopeStyle::kNeox;
  a.num_tokens = num_tokens;
  a.q = q;
  a.q_stride_t = ldq;
  a.q_stride_h = head_dim;
  a.num_q_heads = static_cast<int>(hq);
  if (k && hk > 0) {
    a.k = k;
    a.k_stride_t = ldk;
    a.k_stride_h = head_dim;
    a.num_k_heads = static_cast<int>(hk);
  }
  return a;
}

StatusOr<kernels::KVWriteArgs> KVWriteArgsFor(const char* op, const void* k, DType k_dtype,
                                              int64_t ldk, const void* v, DType v_dtype,
                                              int64_t ldv, int64_t hk, int64_t head_dim,
                                              const AttentionMetadata& meta, void* k_cache,
                                              void* v_cache, DType cache_dtype,
                                              int64_t num_blocks, int64_t block_size) {
  RETURN_IF_ERROR(CheckOneDType(op, {k_dtype, v_dtype, cache_dtype}));
  const int64_t tokens = static_cast<int64_t>(meta.slot_mapping_host.size());
  const Tensor& slots = meta.slot_mapping;
  if (tokens > 0 && (!slots.device().is_cuda() || slots.dtype() != DType::kI32 ||
                     slots.numel() < tokens || !slots.is_contiguous()))
    return InvalidArgumentError(fmt::format(
        "{}: meta.slot_mapping must be a contiguous int32 CUDA tensor of {} slots", op, tokens));
  kernels::KVWriteArgs a;
  a.k = k;
  a.v = v;
  a.k_stride_t = ldk;
  a.k_stride_h = head_dim;
  a.v_stride_t = ldv;
  a.v_stride_h = head_dim;
  a.slot_mapping = tokens > 0 ? slots.data<int32_t>() : nullptr;
  a.num_tokens = tokens;
  a.num_slots = num_blocks * block_size;
  a.num_kv_heads = static_cast<int>(hk);
  a.head_dim = static_cast<int>(head_dim);
  a.k_cache = k_cache;
  a.v_cache = v_cache;
  return a;
}

}  // namespace

Status ApplyRotary(const ExecCtx& ctx, const int32_t* positions, int64_t num_tokens,
                   const float* cos_sin, int64_t max_positions, int rot_dim, ops::RopeStyle style,
                   void* q, DType q_dtype, int64_t ldq, int64_t hq, void* k, DType k_dtype,
                   int64_t ldk, int64_t hk, int64_t head_dim) {
  constexpr const char* kOp = "cuda::ApplyRotary";
  ASSIGN_OR_RETURN(kernels::RotaryArgs a,
                   RotaryArgsFor(kOp, positions, num_tokens, cos_sin, max_positions, rot_dim,
                                 style, q, q_dtype, ldq, hq, k, k_dtype, ldk, hk, head_dim));
  if (num_tokens == 0) return OkStatus();
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, kernels::Rotary(q_dtype, a, StreamOf(ctx)));
  return OkStatus();
}

Status WriteKVCache(const ExecCtx& ctx, const void* k, DType k_dtype, int64_t ldk, const void* v,
                    DType v_dtype, int64_t ldv, int64_t hk, int64_t head_dim,
                    const AttentionMetadata& meta, void* k_cache, void* v_cache, DType cache_dtype,
                    int64_t num_blocks, int64_t block_size) {
  constexpr const char* kOp = "cuda::WriteKVCache";
  ASSIGN_OR_RETURN(kernels::KVWriteArgs a,
                   KVWriteArgsFor(kOp, k, k_dtype, ldk, v, v_dtype, ldv, hk, head_dim, meta,
                                  k_cache, v_cache, cache_dtype, num_blocks, block_size));
  if (a.num_tokens == 0) return OkStatus();
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, kernels::WriteKV(k_dtype, a, StreamOf(ctx)));
  return OkStatus();
}

Status ApplyRotaryWriteKV(const ExecCtx& ctx, int64_t num_tokens, const float* cos_sin,
                          int64_t max_positions, int rot_dim, ops::RopeStyle style, void* q,
                          DType q_dtype, int64_t ldq, int64_t hq, void* k, DType k_dtype,
                          int64_t ldk, const void* v, DType v_dtype, int64_t ldv, int64_t hk,
                          int64_t head_dim, const AttentionMetadata& meta, void* k_cache,
                          void* v_cache, DType cache_dtype, int64_t num_blocks,
                          int64_t block_size) {
  constexpr const char* kOp = "cuda::ApplyRotaryWriteKV";
  ASSIGN_OR_RETURN(kernels::RotaryArgs a,
                   RotaryArgsFor(kOp, meta.positions.data<int32_t>(), num_tokens, cos_sin,
                                 max_positions, rot_dim, style, q, q_dtype, ldq, hq, k, k_dtype,
                                 ldk, hk, head_dim));
  ASSIGN_OR_RETURN(a.kv, KVWriteArgsFor(kOp, k, k_dtype, ldk, v, v_dtype, ldv, hk, head_dim, meta,
                                        k_cache, v_cache, cache_dtype, num_blocks, block_size));
  if (num_tokens == 0) return OkStatus();
  if (a.kv.num_tokens != num_tokens)
    return InvalidArgumentError(fmt::format("{}: {} slots for {} tokens", kOp, a.kv.num_tokens,
                                            num_tokens));
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, kernels::Rotary(q_dtype, a, StreamOf(ctx)));
  return OkStatus();
}

}  // namespace pagellm::cuda

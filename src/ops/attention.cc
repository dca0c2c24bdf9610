// Device switch for WriteKVCache and PagedAttention. The metadata's host arrays are validated
// here once so that neither backend can index outside the cache.
#include <fmt/format.h>

#include "ops/cuda_dispatch.h"
#include "ops/op_checks.h"
#include "ops/ops.h"

namespace pagellm::ops {
namespace {

// Both caches [num_blocks, block_size, hk, head_dim], contiguous, same dtype and shape.
Status CheckCaches(const ExecCtx& ctx, const char* op, const Tensor& kc, const Tensor& vc,
                   const AttentionMetadata& meta, int64_t hk, int64_t d) {
  RETURN_IF_ERROR(internal::CheckFloatOn(ctx, op, "k_cache", kc));
  RETURN_IF_ERROR(internal::CheckFloatOn(ctx, op, "v_cache", vc));
  if (kc.rank() != 4 || kc.dim(1) != meta.block_size || kc.dim(2) != hk || kc.dim(3) != d)
    return internal::Error(
        op, "k_cache", fmt::format("must be [num_blocks, {}, {}, {}]", meta.block_size, hk, d), kc);
  if (!(vc.shape() == kc.shape()) || vc.dtype() != kc.dtype())
    return internal::Error(op, "v_cache", "must match k_cache " + kc.DebugString(), vc);
  RETURN_IF_ERROR(internal::CheckContiguous(op, "k_cache", kc));
  return internal::CheckContiguous(op, "v_cache", vc);
}

}  // namespace

namespace internal {

StatusOr<KVWriteDims> CheckKVWrite(const ExecCtx& ctx, const char* op, const Tensor& k,
                                   const Tensor& v, const AttentionMetadata& meta,
                                   const Tensor& k_cache, const Tensor& v_cache) {
  RETURN_IF_ERROR(CheckFloatOn(ctx, op, "k", k));
  RETURN_IF_ERROR(CheckFloatOn(ctx, op, "v", v));
  KVWriteDims w;
  ASSIGN_OR_RETURN(w.ldk, TokenHeadStride(op, "k", k));
  ASSIGN_OR_RETURN(w.ldv, TokenHeadStride(op, "v", v));
  RETURN_IF_ERROR(CheckShape(op, "v", v, k.shape()));
  RETURN_IF_ERROR(CheckCaches(ctx, op, k_cache, v_cache, meta, k.dim(1), k.dim(2)));
  if (meta.num_tokens != k.dim(0) || meta.slot_mapping_host.size() != static_cast<size_t>(k.dim(0)))
    return InvalidArgumentError(fmt::format("{}: metadata has {} tokens / {} slots, k has {}", op,
                                            meta.num_tokens, meta.slot_mapping_host.size(),
                                            k.dim(0)));
  int64_t num_slots = k_cache.dim(0) * k_cache.dim(1);
  for (size_t t = 0; t < meta.slot_mapping_host.size(); ++t) {
    if (meta.slot_mapping_host[t] >= num_slots)
      return InvalidArgumentError(fmt::format("{}: slot {} of token {} beyond the cache's {} slots",
                                              op, meta.slot_mapping_host[t], t, num_slots));
  }
  return w;
}

}  // namespace internal

Status WriteKVCache(const ExecCtx& ctx, const Tensor& k, const Tensor& v,
                    const AttentionMetadata& meta, Tensor& k_cache, Tensor& v_cache) {
  ASSIGN_OR_RETURN(internal::KVWriteDims w,
                   internal::CheckKVWrite(ctx, "WriteKVCache", k, v, meta, k_cache, v_cache));
  return PAGELLM_DISPATCH(ctx, WriteKVCache, k.data(), k.dtype(), w.ldk, v.data(), v.dtype(),
                          w.ldv, k.dim(1), k.dim(2), meta, k_cache.data(), v_cache.data(),
                          k_cache.dtype(), k_cache.dim(0), k_cache.dim(1));
}

Status PagedAttention(const ExecCtx& ctx, const Tensor& q, const Tensor& k_cache,
                      const Tensor& v_cache, const AttentionMetadata& meta,
                      const AttentionParams& params, Tensor& out) {
  constexpr const char* kOp = "PagedAttention";
  RETURN_IF_ERROR(internal::CheckFloatOn(ctx, kOp, "q", q));
  RETURN_IF_ERROR(internal::CheckFloatOn(ctx, kOp, "out", out));
  ASSIGN_OR_RETURN(int64_t ldq, internal::TokenHeadStride(kOp, "q", q));
  ASSIGN_OR_RETURN(int64_t ldo, internal::TokenHeadStride(kOp, "out", out));
  RETURN_IF_ERROR(internal::CheckShape(kOp, "out", out, q.shape()));
  if (k_cache.rank() != 4) return internal::Error(kOp, "k_cache", "must have rank 4", k_cache);
  int64_t hq = q.dim(1), hk = k_cache.dim(2), d = q.dim(2);
  if (hk <= 0 || hq % hk != 0)
    return InvalidArgumentError(
        fmt::format("{}: {} query heads is not a multiple of {} kv heads", kOp, hq, hk));
  RETURN_IF_ERROR(CheckCaches(ctx, kOp, k_cache, v_cache, meta, hk, d));
  RETURN_IF_ERROR(internal::CheckMetadata(kOp, meta, q.dim(0), k_cache.dim(0)));
  if (params.sliding_window < 0 || params.logit_softcap < 0.f)
    return InvalidArgumentError(fmt::format("{}: sliding_window {} / logit_softcap {} negative",
                                            kOp, params.sliding_window, params.logit_softcap));
  const float* slopes = nullptr;
  if (params.alibi_slopes) {
    const Tensor& a = *params.alibi_slopes;
    RETURN_IF_ERROR(internal::CheckOn(ctx, kOp, "alibi_slopes", a));
    if (a.dtype() != DType::kF32 || !(a.shape() == Shape{hq}) || !a.is_contiguous())
      return internal::Error(kOp, "alibi_slopes", fmt::format("must be contiguous f32 [{}]", hq),
                             a);
    slopes = a.data<float>();
  }
  // Profiler key: PagedAttention[1x..] for pure-decode steps, [0x..] for steps with a prefill.
  return PAGELLM_DISPATCH_SHAPED(ctx, meta.max_query_len == 1 ? 1 : 0, hq, PagedAttention, q.data(), q.dtype(), ldq, hq, hk, d, k_cache.data(),
                          v_cache.data(), k_cache.dtype(), k_cache.dim(0), k_cache.dim(1), meta,
                          params.scale, params.sliding_window, params.logit_softcap, slopes,
                          out.data(), out.dtype(), ldo);
}

}  // namespace pagellm::ops

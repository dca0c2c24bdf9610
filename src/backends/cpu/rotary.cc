// Rotary position embedding applied in place to q and k.
#include <string>

#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

namespace pagellm::cpu {
namespace {

// Rotates the first rot_dim entries of x (f32) with cos c[i], sin s[i], i < rot_dim / 2.
void RotateHead(float* x, const float* c, const float* s, int rot_dim, ops::RopeStyle style) {
  int half = rot_dim / 2;
  if (style == ops::RopeStyle::kNeox) {
    for (int i = 0; i < half; ++i) {
      float x1 = x[i], x2 = x[i + half];
      x[i] = x1 * c[i] - x2 * s[i];
      x[i + half] = x2 * c[i] + x1 * s[i];
    }
  } else {
    for (int i = 0; i < half; ++i) {
      float x1 = x[2 * i], x2 = x[2 * i + 1];
      x[2 * i] = x1 * c[i] - x2 * s[i];
      x[2 * i + 1] = x2 * c[i] + x1 * s[i];
    }
  }
}

void RotateHeads(void* data, DType t, int64_t row_offset, int64_t heads, int64_t head_dim,
                 const float* cs, int rot_dim, ops::RopeStyle style) {
  float* buf = internal::Scratch(rot_dim);
  for (int64_t h = 0; h < heads; ++h) {
    int64_t off = row_offset + h * head_dim;
    internal::LoadRow(data, t, off, rot_dim, buf);
    RotateHead(buf, cs, cs + rot_dim / 2, rot_dim, style);
    internal::StoreRow(buf, rot_dim, data, t, off);
  }
}

}  // namespace

Status ApplyRotary(const ExecCtx& ctx, const int32_t* positions, int64_t num_tokens,
                   const float* cos_sin, int64_t max_positions, int rot_dim, ops::RopeStyle style,
                   void* q, DType q_dtype, int64_t ldq, int64_t hq, void* k, DType k_dtype,
                   int64_t ldk, int64_t hk, int64_t head_dim) {
  for (int64_t t = 0; t < num_tokens; ++t) {
    if (positions[t] < 0 || positions[t] >= max_positions) {
      return InvalidArgumentError("ApplyRotary: position " + std::to_string(positions[t]) +
                                  " of token " + std::to_string(t) +
                                  " outside the cos/sin table [0, " +
                                  std::to_string(max_positions) + ")");
    }
  }
  int threads = internal::NumThreads(ctx.num_threads, num_tokens * (hq + hk) * rot_dim);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t t = 0; t < num_tokens; ++t) {
    const float* cs = cos_sin + static_cast<int64_t>(positions[t]) * rot_dim;
    RotateHeads(q, q_dtype, t * ldq, hq, head_dim, cs, rot_dim, style);
    if (k && hk > 0) RotateHeads(k, k_dtype, t * ldk, hk, head_dim, cs, rot_dim, style);
  }
  return OkStatus();
}

// No fusion to gain on the CPU: the two ops in turn.
Status ApplyRotaryWriteKV(const ExecCtx& ctx, int64_t num_tokens, const float* cos_sin,
                          int64_t max_positions, int rot_dim, ops::RopeStyle style, void* q,
                          DType q_dtype, int64_t ldq, int64_t hq, void* k, DType k_dtype,
                          int64_t ldk, const void* v, DType v_dtype, int64_t ldv, int64_t hk,
                          int64_t head_dim, const AttentionMetadata& meta, void* k_cache,
                          void* v_cache, DType cache_dtype, int64_t num_blocks,
                          int64_t block_size) {
  RETURN_IF_ERROR(ApplyRotary(ctx, meta.positions.data<int32_t>(), num_tokens, cos_sin,
                              max_positions, rot_dim, style, q, q_dtype, ldq, hq, k, k_dtype, ldk,
                              hk, head_dim));
  return WriteKVCache(ctx, k, k_dtype, ldk, v, v_dtype, ldv, hk, head_dim, meta, k_cache, v_cache,
                      cache_dtype, num_blocks, block_size);
}

}  // namespace pagellm::cpu

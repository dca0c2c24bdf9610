// WriteKVCache and PagedAttention over the block-paged KV cache (host metadata arrays).
// One work item = (query token, kv head): the item's query heads (the GQA group) share every
// K/V row it loads. Scores and softmax are f32 with max subtraction.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

namespace pagellm::cpu {
namespace {

using internal::LoadRow;
using internal::StoreRow;

struct AttnShape {
  int64_t hq, hk, group, head_dim, block_size;
  float scale, softcap;
  int32_t window;
  const float* alibi;
};

// Row pointer (element offset) of the cache entry for position pos of sequence s.
inline int64_t CacheOffset(const AttentionMetadata& m, const AttnShape& a, int s, int64_t pos,
                           int64_t kvh) {
  int64_t block = m.block_indices_host[m.block_indptr_host[s] + pos / a.block_size];
  return ((block * a.block_size + pos % a.block_size) * a.hk + kvh) * a.head_dim;
}

inline const float* CacheRow(const void* cache, DType t, int64_t off, int64_t d, float* buf) {
  if (t == DType::kF32) return static_cast<const float*>(cache) + off;
  LoadRow(cache, t, off, d, buf);
  return buf;
}

// Turns raw q.k dot products into softmax weights in place (scale, softcap, ALiBi, max shift).
void Softmax(float* s, int64_t n, float scale, float softcap, float slope, int64_t lo,
             int64_t p) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) {
    float v = s[i] * scale;
    if (softcap > 0.f) v = softcap * std::tanh(v / softcap);
    if (slope != 0.f) v += slope * static_cast<float>(lo + i - p);
    s[i] = v;
    mx = std::max(mx, v);
  }
  float sum = 0.f;
  for (int64_t i = 0; i < n; ++i) {
    s[i] = std::exp(s[i] - mx);
    sum += s[i];
  }
  float inv = 1.f / sum;
  for (int64_t i = 0; i < n; ++i) s[i] *= inv;
}

void AttendOne(const void* q, DType q_dtype, int64_t ldq, const void* k_cache,
               const void* v_cache, DType ct, const AttentionMetadata& m, const AttnShape& a,
               int s, int64_t t, int64_t kvh, void* out, DType out_dtype, int64_t ldo) {
  int64_t qlen = m.query_start_loc_host[s + 1] - m.query_start_loc_host[s];
  int64_t p = m.seq_lens_host[s] - qlen + (t - m.query_start_loc_host[s]);
  int64_t lo = a.window > 0 ? std::max<int64_t>(0, p - a.window + 1) : 0;
  int64_t n = p - lo + 1, d = a.head_dim, g_n = a.group;
  float* qf = internal::Scratch(g_n * d, 0);
  float* sc = internal::Scratch(g_n * n, 1);
  float* row = internal::Scratch(d, 2);
  float* acc = internal::Scratch(g_n * d, 3);
  LoadRow(q, q_dtype, t * ldq + kvh * g_n * d, g_n * d, qf);
  for (int64_t i = 0; i < n; ++i) {
    const float* kr = CacheRow(k_cache, ct, CacheOffset(m, a, s, lo + i, kvh), d, row);
    for (int64_t g = 0; g < g_n; ++g) {
      const float* qg = qf + g * d;
      float dot = 0.f;
#pragma omp simd reduction(+ : dot)
      for (int64_t x = 0; x < d; ++x) dot += qg[x] * kr[x];
      sc[g * n + i] = dot;
    }
  }
  for (int64_t g = 0; g < g_n; ++g) {
    float slope = a.alibi ? a.alibi[kvh * g_n + g] : 0.f;
    Softmax(sc + g * n, n, a.scale, a.softcap, slope, lo, p);
  }
  std::fill(acc, acc + g_n * d, 0.f);
  for (int64_t i = 0; i < n; ++i) {
    const float* vr = CacheRow(v_cache, ct, CacheOffset(m, a, s, lo + i, kvh), d, row);
    for (int64_t g = 0; g < g_n; ++g) {
      float w = sc[g * n + i];
      float* ag = acc + g * d;
#pragma omp simd
      for (int64_t x = 0; x < d; ++x) ag[x] += w * vr[x];
    }
  }
  StoreRow(acc, g_n * d, out, out_dtype, t * ldo + kvh * g_n * d);
}

}  // namespace

Status WriteKVCache(const ExecCtx& ctx, const void* k, DType k_dtype, int64_t ldk, const void* v,
                    DType v_dtype, int64_t ldv, int64_t hk, int64_t head_dim,
                    const AttentionMetadata& meta, void* k_cache, void* v_cache,
                    DType cache_dtype, int64_t num_blocks, int64_t block_size) {
  int64_t num_slots = num_blocks * block_size, width = hk * head_dim;
  const std::vector<int32_t>& slots = meta.slot_mapping_host;
  for (int64_t t = 0; t < meta.num_tokens; ++t) {
    if (slots[t] >= num_slots) {
      return InvalidArgumentError("WriteKVCache: slot " + std::to_string(slots[t]) + " of token " +
                                  std::to_string(t) + " beyond the cache's " +
                                  std::to_string(num_slots) + " slots");
    }
  }
  int threads = internal::NumThreads(ctx.num_threads, meta.num_tokens * width);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t t = 0; t < meta.num_tokens; ++t) {
    if (slots[t] < 0) continue;
    float* buf = internal::Scratch(width);
    LoadRow(k, k_dtype, t * ldk, width, buf);
    StoreRow(buf, width, k_cache, cache_dtype, slots[t] * width);
    LoadRow(v, v_dtype, t * ldv, width, buf);
    StoreRow(buf, width, v_cache, cache_dtype, slots[t] * width);
  }
  return OkStatus();
}

Status PagedAttention(const ExecCtx& ctx, const void* q, DType q_dtype, int64_t ldq, int64_t hq,
                      int64_t hk, int64_t head_dim, const void* k_cache, const void* v_cache,
                      DType cache_dtype, int64_t num_blocks, int64_t block_size,
                      const AttentionMetadata& meta, float scale, int32_t sliding_window,
                      float logit_softcap, const float* alibi_slopes, void* out, DType out_dtype,
                      int64_t ldo) {
  AttnShape a{hq, hk, hq / hk, head_dim, block_size, scale, logit_softcap, sliding_window,
              alibi_slopes};
  std::vector<int> seq_of_token(static_cast<size_t>(meta.num_tokens));
  for (int s = 0; s < meta.num_seqs; ++s) {
    for (int32_t t = meta.query_start_loc_host[s]; t < meta.query_start_loc_host[s + 1]; ++t)
      seq_of_token[t] = s;
  }
  int64_t max_len = 1;
  for (int s = 0; s < meta.num_seqs; ++s) max_len = std::max<int64_t>(max_len, meta.seq_lens_host[s]);
  int64_t items = static_cast<int64_t>(meta.num_tokens) * hk;
  int threads = internal::NumThreads(ctx.num_threads, items * max_len * head_dim * a.group);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t it = 0; it < items; ++it) {
    int64_t t = it / hk, kvh = it % hk;
    AttendOne(q, q_dtype, ldq, k_cache, v_cache, cache_dtype, meta, a, seq_of_token[t], t, kvh,
              out, out_dtype, ldo);
  }
  return OkStatus();
}

}  // namespace pagellm::cpu

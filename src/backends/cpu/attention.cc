// WriteKVCache and PagedAttention over the block-paged KV cache (host metadata arrays).
// Scores and softmax are f32 (online, with max subtraction); see AttendItem for the blocking.
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

// One work item: up to kQueryChunk consecutive query tokens of one sequence and one kv head,
// i.e. rows r = j * group + g of queries. K/V rows are loaded (and widened) once per item and
// key block, and shared by all its rows. Softmax is online over key blocks aligned to absolute
// multiples of kKeyBlock, so a query's arithmetic never depends on the other queries of its
// item: results are the same whether a token is decoded alone, batched, or chunk-prefilled.
constexpr int64_t kQueryChunk = 8;
constexpr int64_t kKeyBlock = 32;

struct Item {
  int seq;
  int64_t t0, nq, kvh;
};

struct Rows {
  float* q;    // [R, d] queries
  float* acc;  // [R, d] running sum of weights * v
  float* mx;   // [R] running max
  float* sum;  // [R] running sum of weights
  float* fac;  // [R] rescale factor of the accumulator for the current key block
  float* w;    // [R, kKeyBlock] scores / weights of the current key block
};

inline float Score(const float* q, const float* k, int64_t d, const AttnShape& a, float slope,
                   int64_t key_pos, int64_t p) {
  float dot = 0.f;
#pragma omp simd reduction(+ : dot)
  for (int64_t e = 0; e < d; ++e) dot += q[e] * k[e];
  float v = dot * a.scale;
  if (a.softcap > 0.f) v = a.softcap * std::tanh(v / a.softcap);
  if (slope != 0.f) v += slope * static_cast<float>(key_pos - p);
  return v;
}

// Scores row r against keys [x0, x1] of block b0 and folds them into its running max/sum;
// leaves exp weights in w and returns the factor that rescales the old accumulator.
float ScoreBlock(Rows& st, int64_t r, const float* const* kr, int64_t b0, int64_t x0, int64_t x1,
                 const AttnShape& a, float slope, int64_t p) {
  float* w = st.w + r * kKeyBlock;
  float bmax = -INFINITY;
  for (int64_t x = x0; x <= x1; ++x) {
    w[x - b0] = Score(st.q + r * a.head_dim, kr[x - b0], a.head_dim, a, slope, x, p);
    bmax = std::max(bmax, w[x - b0]);
  }
  float m_new = std::max(st.mx[r], bmax);
  float factor = std::exp(st.mx[r] - m_new);
  float bsum = 0.f;
  for (int64_t x = x0; x <= x1; ++x) bsum += (w[x - b0] = std::exp(w[x - b0] - m_new));
  st.sum[r] = st.sum[r] * factor + bsum;
  st.mx[r] = m_new;
  return factor;
}

void AttendItem(const void* q, DType q_dtype, int64_t ldq, const void* k_cache, const void* v_cache,
                DType ct, const AttentionMetadata& m, const AttnShape& a, const Item& it, void* out,
                DType out_dtype, int64_t ldo) {
  int64_t d = a.head_dim, g_n = a.group, rows = it.nq * g_n;
  int64_t qsl = m.query_start_loc_host[it.seq];
  int64_t base = m.seq_lens_host[it.seq] - (m.query_start_loc_host[it.seq + 1] - qsl) - qsl;
  auto lo_of = [&](int64_t p) { return a.window > 0 ? std::max<int64_t>(0, p - a.window + 1) : 0; };
  Rows st{internal::Scratch(rows * d, 0),
          internal::Scratch(rows * d, 1),
          internal::Scratch(3 * rows + rows * kKeyBlock, 2),
          nullptr,
          nullptr,
          nullptr};
  st.sum = st.mx + rows;
  st.fac = st.sum + rows;
  st.w = st.fac + rows;
  float* conv = internal::Scratch(kKeyBlock * d, 3);
  for (int64_t j = 0; j < it.nq; ++j)
    LoadRow(q, q_dtype, (it.t0 + j) * ldq + it.kvh * g_n * d, g_n * d, st.q + j * g_n * d);
  std::fill(st.acc, st.acc + rows * d, 0.f);
  std::fill(st.mx, st.mx + rows, -INFINITY);
  std::fill(st.sum, st.sum + rows, 0.f);
  int64_t p_first = it.t0 + base, p_last = it.t0 + it.nq - 1 + base;
  const float* kr[kKeyBlock];
  for (int64_t b0 = lo_of(p_first) / kKeyBlock * kKeyBlock; b0 <= p_last; b0 += kKeyBlock) {
    int64_t x_lo = std::max(b0, lo_of(p_first)), x_hi = std::min(b0 + kKeyBlock - 1, p_last);
    for (int64_t x = x_lo; x <= x_hi; ++x)
      kr[x - b0] =
          CacheRow(k_cache, ct, CacheOffset(m, a, it.seq, x, it.kvh), d, conv + (x - b0) * d);
    for (int64_t j = 0; j < it.nq; ++j) {
      int64_t p = it.t0 + j + base, x0 = std::max(b0, lo_of(p)),
              x1 = std::min(b0 + kKeyBlock - 1, p);
      for (int64_t g = 0; g < g_n && x0 <= x1; ++g) {
        float slope = a.alibi ? a.alibi[it.kvh * g_n + g] : 0.f;
        st.fac[j * g_n + g] = ScoreBlock(st, j * g_n + g, kr, b0, x0, x1, a, slope, p);
      }
    }
    for (int64_t x = x_lo; x <= x_hi; ++x)
      kr[x - b0] =
          CacheRow(v_cache, ct, CacheOffset(m, a, it.seq, x, it.kvh), d, conv + (x - b0) * d);
    for (int64_t j = 0; j < it.nq; ++j) {
      int64_t p = it.t0 + j + base, x0 = std::max(b0, lo_of(p)),
              x1 = std::min(b0 + kKeyBlock - 1, p);
      for (int64_t g = 0; g < g_n && x0 <= x1; ++g) {
        int64_t r = j * g_n + g;
        float* acc = st.acc + r * d;
        const float* w = st.w + r * kKeyBlock;
        float f = st.fac[r];
#pragma omp simd
        for (int64_t e = 0; e < d; ++e) acc[e] *= f;
        for (int64_t x = x0; x <= x1; ++x) {
          const float* vr = kr[x - b0];
#pragma omp simd
          for (int64_t e = 0; e < d; ++e) acc[e] += w[x - b0] * vr[e];
        }
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    float inv = 1.f / st.sum[r];
    for (int64_t e = 0; e < d; ++e) st.acc[r * d + e] *= inv;
  }
  for (int64_t j = 0; j < it.nq; ++j)
    StoreRow(st.acc + j * g_n * d, g_n * d, out, out_dtype, (it.t0 + j) * ldo + it.kvh * g_n * d);
}

}  // namespace

Status WriteKVCache(const ExecCtx& ctx, const void* k, DType k_dtype, int64_t ldk, const void* v,
                    DType v_dtype, int64_t ldv, int64_t hk, int64_t head_dim,
                    const AttentionMetadata& meta, void* k_cache, void* v_cache, DType cache_dtype,
                    int64_t num_blocks, int64_t block_size) {
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
  AttnShape a{hq,          hk, hq / hk, head_dim, block_size, scale, logit_softcap, sliding_window,
              alibi_slopes};
  std::vector<Item> items;
  int64_t work = 0;
  for (int s = 0; s < meta.num_seqs; ++s) {
    int64_t t_begin = meta.query_start_loc_host[s], t_end = meta.query_start_loc_host[s + 1];
    for (int64_t t0 = t_begin; t0 < t_end; t0 += kQueryChunk)
      for (int64_t kvh = 0; kvh < hk; ++kvh)
        items.push_back(Item{s, t0, std::min(kQueryChunk, t_end - t0), kvh});
    work += (t_end - t_begin) * meta.seq_lens_host[s];
  }
  int threads = internal::NumThreads(ctx.num_threads, work * hq * head_dim);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (size_t i = 0; i < items.size(); ++i)
    AttendItem(q, q_dtype, ldq, k_cache, v_cache, cache_dtype, meta, a, items[i], out, out_dtype,
               ldo);
  return OkStatus();
}

}  // namespace pagellm::cpu

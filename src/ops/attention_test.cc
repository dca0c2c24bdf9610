// WriteKVCache + PagedAttention vs a dense double-precision reference on random page tables
// (shuffled, non-contiguous blocks), mixed prefill/decode batches, GQA/MQA, sliding window,
// softcap and ALiBi.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "ops/op_test_util.h"
#include "ops/ops.h"

namespace pagellm::ops {
namespace {

using testing::ExpectClose;
using testing::RandomTensor;
using testing::ToDouble;

struct SeqSpec {
  int64_t context;  // tokens already cached before this step
  int64_t query;    // new tokens this step
};

struct Scenario {
  int64_t hq = 4, hk = 1, d = 8, block_size = 4;
  DType cache_dtype = DType::kF32, act_dtype = DType::kF32;
  std::vector<SeqSpec> seqs;
  AttentionParams params;
};

// A batch laid out in a paged cache: metadata, caches and each sequence's dense K/V.
struct Paged {
  AttentionMetadata meta;
  Tensor k_cache, v_cache;
  std::vector<Tensor> dense_k, dense_v;  // [len, hk, d] per sequence, in the cache dtype
  std::vector<int32_t> all_slots;        // slot of every position of every sequence
};

// Assigns shuffled (non-contiguous) blocks to every sequence and fills the metadata.
Paged PlanBatch(const Scenario& sc, uint32_t seed) {
  std::mt19937 rng(seed);
  Paged pg;
  AttentionMetadata& m = pg.meta;
  m.num_seqs = static_cast<int32_t>(sc.seqs.size());
  m.block_size = static_cast<int32_t>(sc.block_size);
  int64_t total_blocks = 0;
  for (const SeqSpec& s : sc.seqs)
    total_blocks += (s.context + s.query + sc.block_size - 1) / sc.block_size;
  int64_t num_blocks = total_blocks + 3;
  std::vector<int32_t> pool(num_blocks);
  std::iota(pool.begin(), pool.end(), 0);
  std::shuffle(pool.begin(), pool.end(), rng);
  m.query_start_loc_host = {0};
  m.block_indptr_host = {0};
  size_t next = 0;
  for (size_t s = 0; s < sc.seqs.size(); ++s) {
    int64_t len = sc.seqs[s].context + sc.seqs[s].query;
    for (int64_t b = 0; b < (len + sc.block_size - 1) / sc.block_size; ++b)
      m.block_indices_host.push_back(pool[next++]);
    m.block_indptr_host.push_back(static_cast<int32_t>(m.block_indices_host.size()));
    m.query_start_loc_host.push_back(m.query_start_loc_host.back() +
                                     static_cast<int32_t>(sc.seqs[s].query));
    m.seq_lens_host.push_back(static_cast<int32_t>(len));
    m.max_query_len = std::max<int32_t>(m.max_query_len, static_cast<int32_t>(sc.seqs[s].query));
    m.max_seq_len = std::max<int32_t>(m.max_seq_len, static_cast<int32_t>(len));
    for (int64_t p = 0; p < len; ++p) {
      int32_t blk = m.block_indices_host[m.block_indptr_host[s] + p / sc.block_size];
      int32_t slot = static_cast<int32_t>(blk * sc.block_size + p % sc.block_size);
      pg.all_slots.push_back(slot);
      if (p >= sc.seqs[s].context) m.slot_mapping_host.push_back(slot);
    }
    pg.dense_k.push_back(RandomTensor(Shape{len, sc.hk, sc.d}, sc.cache_dtype, seed + 10 * s + 1));
    pg.dense_v.push_back(RandomTensor(Shape{len, sc.hk, sc.d}, sc.cache_dtype, seed + 10 * s + 2));
  }
  m.num_tokens = m.query_start_loc_host.back();
  pg.k_cache = Tensor::EmptyHost(Shape{num_blocks, sc.block_size, sc.hk, sc.d}, sc.cache_dtype);
  pg.v_cache = Tensor::EmptyHost(pg.k_cache.shape(), sc.cache_dtype);
  return pg;
}

// Writes every position's K/V with one WriteKVCache (metadata carrying only slot_mapping).
void FillCaches(const Scenario& sc, Paged& pg) {
  std::vector<float> kall, vall;
  for (size_t s = 0; s < sc.seqs.size(); ++s) {
    auto kf = pg.dense_k[s].ToFloatVector(), vf = pg.dense_v[s].ToFloatVector();
    kall.insert(kall.end(), kf.begin(), kf.end());
    vall.insert(vall.end(), vf.begin(), vf.end());
  }
  int64_t n = static_cast<int64_t>(pg.all_slots.size());
  AttentionMetadata fill;
  fill.num_tokens = static_cast<int32_t>(n);
  fill.block_size = pg.meta.block_size;
  fill.slot_mapping_host = pg.all_slots;
  Tensor kt = Tensor::FromVector(kall, Shape{n, sc.hk, sc.d});
  Tensor vt = Tensor::FromVector(vall, Shape{n, sc.hk, sc.d});
  ASSERT_TRUE(WriteKVCache(ExecCtx{}, kt, vt, fill, pg.k_cache, pg.v_cache).ok());
}

// Dense attention of query token t (head h) at position p over its sequence's K/V, in double.
void RefToken(const Scenario& sc, const std::vector<double>& kd, const std::vector<double>& vd,
              const std::vector<double>& qd, int64_t t, int64_t p, int64_t h,
              std::vector<double>& out) {
  const AttentionParams& ap = sc.params;
  int64_t kvh = h / (sc.hq / sc.hk), d = sc.d;
  int64_t lo = ap.sliding_window > 0 ? std::max<int64_t>(0, p - ap.sliding_window + 1) : 0;
  double slope = ap.alibi_slopes ? ap.alibi_slopes->At(h) : 0.0;
  std::vector<double> w;
  for (int64_t x = lo; x <= p; ++x) {
    double dot = 0;
    for (int64_t e = 0; e < d; ++e)
      dot += qd[(t * sc.hq + h) * d + e] * kd[(x * sc.hk + kvh) * d + e];
    double sv = dot * ap.scale;
    if (ap.logit_softcap > 0) sv = ap.logit_softcap * std::tanh(sv / ap.logit_softcap);
    w.push_back(sv + slope * static_cast<double>(x - p));
  }
  double mx = *std::max_element(w.begin(), w.end()), sum = 0;
  for (double& v : w) sum += (v = std::exp(v - mx));
  for (int64_t e = 0; e < d; ++e) {
    double acc = 0;
    for (int64_t x = lo; x <= p; ++x) acc += w[x - lo] / sum * vd[(x * sc.hk + kvh) * d + e];
    out[(t * sc.hq + h) * d + e] = acc;
  }
}

// Runs PagedAttention on the scenario and compares it with dense double-precision attention.
void RunScenario(const Scenario& sc, uint32_t seed) {
  Paged pg = PlanBatch(sc, seed);
  FillCaches(sc, pg);
  const AttentionMetadata& m = pg.meta;
  Tensor q = RandomTensor(Shape{m.num_tokens, sc.hq, sc.d}, sc.act_dtype, seed + 999);
  Tensor out = Tensor::EmptyHost(q.shape(), sc.act_dtype);
  Status st = PagedAttention(ExecCtx{}, q, pg.k_cache, pg.v_cache, m, sc.params, out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::vector<double> qd = ToDouble(q), want(qd.size());
  for (size_t s = 0; s < sc.seqs.size(); ++s) {
    std::vector<double> kd = ToDouble(pg.dense_k[s]), vd = ToDouble(pg.dense_v[s]);
    for (int64_t j = 0; j < sc.seqs[s].query; ++j)
      for (int64_t h = 0; h < sc.hq; ++h)
        RefToken(sc, kd, vd, qd, m.query_start_loc_host[s] + j, sc.seqs[s].context + j, h, want);
  }
  ExpectClose(want, out, 2 * testing::TolFor(sc.act_dtype), 1e-2);
}

std::vector<SeqSpec> MixedBatch() {
  // Decodes, a fresh prefill, a chunked prefill continuing a context, a 1-token sequence.
  return {{9, 1}, {0, 13}, {6, 5}, {0, 1}, {30, 1}, {17, 3}};
}

TEST(PagedAttentionTest, MhaMixedBatch) {
  Scenario sc;
  sc.hq = 3;
  sc.hk = 3;
  sc.d = 17;
  sc.seqs = MixedBatch();
  sc.params.scale = 1.f / std::sqrt(17.f);
  RunScenario(sc, 1);
}

TEST(PagedAttentionTest, Gqa4To1AndMqa) {
  for (int64_t hk : {2, 1}) {
    Scenario sc;
    sc.hq = 8;
    sc.hk = hk;
    sc.d = 16;
    sc.block_size = 16;
    sc.seqs = {{0, 20}, {33, 1}, {40, 2}};
    sc.params.scale = 0.25f;
    RunScenario(sc, 2 + static_cast<uint32_t>(hk));
  }
}

TEST(PagedAttentionTest, SlidingWindow) {
  for (int window : {1, 4, 7, 100}) {
    Scenario sc;
    sc.hq = 4;
    sc.hk = 2;
    sc.d = 8;
    sc.block_size = 3;
    sc.seqs = MixedBatch();
    sc.params.scale = 0.3f;
    sc.params.sliding_window = window;
    RunScenario(sc, 10 + window);
  }
}

TEST(PagedAttentionTest, SoftcapAndAlibi) {
  Scenario sc;
  sc.hq = 4;
  sc.hk = 4;
  sc.d = 8;
  sc.seqs = MixedBatch();
  sc.params.scale = 2.f;  // large logits so the cap matters
  sc.params.logit_softcap = 5.f;
  RunScenario(sc, 20);
  Tensor slopes = Tensor::FromVector({0.5f, 0.25f, 0.125f, 0.0625f}, Shape{4});
  sc.params.logit_softcap = 0.f;
  sc.params.scale = 0.35f;
  sc.params.alibi_slopes = &slopes;
  RunScenario(sc, 21);
}

TEST(PagedAttentionTest, HalfPrecisionCachesAndActivations) {
  for (DType cache : {DType::kBF16, DType::kF16}) {
    for (DType act : {DType::kF32, cache}) {
      Scenario sc;
      sc.hq = 4;
      sc.hk = 1;
      sc.d = 16;
      sc.block_size = 5;
      sc.cache_dtype = cache;
      sc.act_dtype = act;
      sc.seqs = MixedBatch();
      sc.params.scale = 0.25f;
      RunScenario(sc, 30);
    }
  }
}

TEST(PagedAttentionTest, StridedQueryAndOutputViews) {
  Scenario sc;
  sc.hq = 4;
  sc.hk = 2;
  sc.d = 8;
  sc.seqs = MixedBatch();
  sc.params.scale = 0.3f;
  Paged pg = PlanBatch(sc, 40);
  FillCaches(sc, pg);
  int64_t t_n = pg.meta.num_tokens;
  // q and out live inside wider [T, 8, D] buffers (as slices of a fused qkv would).
  Tensor qkv = RandomTensor(Shape{t_n, 8, sc.d}, DType::kF32, 41);
  Tensor q = qkv.Slice(1, 2, 6);
  Tensor q_dense = Tensor::FromVector(q.ToFloatVector(), q.shape());
  Tensor wide = Tensor::FromVector(std::vector<float>(t_n * 8 * sc.d, 0.f), Shape{t_n, 8, sc.d});
  Tensor out = wide.Slice(1, 1, 5);
  Tensor want = Tensor::EmptyHost(q.shape(), DType::kF32);
  ASSERT_TRUE(
      PagedAttention(ExecCtx{}, q_dense, pg.k_cache, pg.v_cache, pg.meta, sc.params, want).ok());
  ASSERT_TRUE(PagedAttention(ExecCtx{}, q, pg.k_cache, pg.v_cache, pg.meta, sc.params, out).ok());
  EXPECT_EQ(out.ToFloatVector(), want.ToFloatVector());
  std::vector<float> untouched = wide.Slice(1, 5, 8).ToFloatVector();
  EXPECT_TRUE(std::all_of(untouched.begin(), untouched.end(), [](float v) { return v == 0.f; }));
}

// A prefill computed at once, in chunks, or token by token gives bitwise identical outputs.
TEST(PagedAttentionTest, ChunkingInvariant) {
  Scenario sc;
  sc.hq = 6;
  sc.hk = 2;
  sc.d = 16;
  sc.block_size = 4;
  sc.seqs = {{0, 45}};
  sc.params.scale = 0.25f;
  sc.params.sliding_window = 37;
  Paged pg = PlanBatch(sc, 50);
  FillCaches(sc, pg);
  Tensor q = RandomTensor(Shape{45, sc.hq, sc.d}, DType::kF32, 51);
  Tensor full = Tensor::EmptyHost(q.shape(), DType::kF32);
  ASSERT_TRUE(PagedAttention(ExecCtx{}, q, pg.k_cache, pg.v_cache, pg.meta, sc.params, full).ok());
  std::vector<float> want = full.ToFloatVector();
  for (int64_t chunk : {1, 5, 17}) {
    for (int64_t c0 = 0; c0 < 45; c0 += chunk) {
      int64_t n = std::min<int64_t>(chunk, 45 - c0);
      AttentionMetadata m = pg.meta;
      m.num_tokens = static_cast<int32_t>(n);
      m.query_start_loc_host = {0, static_cast<int32_t>(n)};
      m.seq_lens_host = {static_cast<int32_t>(c0 + n)};
      m.slot_mapping_host.assign(n, -1);
      Tensor qc = q.Slice(0, c0, c0 + n);
      Tensor out = Tensor::EmptyHost(qc.shape(), DType::kF32);
      ASSERT_TRUE(PagedAttention(ExecCtx{}, qc, pg.k_cache, pg.v_cache, m, sc.params, out).ok());
      std::vector<float> got = out.ToFloatVector();
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i], want[c0 * sc.hq * sc.d + i]) << "chunk " << chunk << " start " << c0;
    }
  }
}

TEST(WriteKVCacheTest, NegativeSlotSkipsAndBadSlotFails) {
  ExecCtx ctx;
  Tensor kc = Tensor::FromVector(std::vector<float>(2 * 2 * 1 * 2, 7.f), Shape{2, 2, 1, 2});
  Tensor vc = Tensor::FromVector(std::vector<float>(8, 7.f), Shape{2, 2, 1, 2});
  Tensor k = Tensor::FromVector({1, 2, 3, 4}, Shape{2, 1, 2});
  AttentionMetadata m;
  m.num_tokens = 2;
  m.block_size = 2;
  m.slot_mapping_host = {-1, 3};
  ASSERT_TRUE(WriteKVCache(ctx, k, k, m, kc, vc).ok());
  std::vector<float> got = kc.ToFloatVector();
  EXPECT_EQ(got, (std::vector<float>{7, 7, 7, 7, 7, 7, 3, 4}));
  m.slot_mapping_host = {0, 4};
  EXPECT_EQ(WriteKVCache(ctx, k, k, m, kc, vc).code(), StatusCode::kInvalidArgument);
}

TEST(PagedAttentionTest, RejectsBadMetadata) {
  ExecCtx ctx;
  Tensor kc = Tensor::EmptyHost(Shape{2, 4, 1, 8}, DType::kF32);
  Tensor q = RandomTensor(Shape{1, 2, 8}, DType::kF32, 1);
  Tensor out = Tensor::EmptyHost(Shape{1, 2, 8}, DType::kF32);
  AttentionMetadata m;
  m.num_seqs = 1;
  m.num_tokens = 1;
  m.block_size = 4;
  m.query_start_loc_host = {0, 1};
  m.seq_lens_host = {9};  // needs 3 blocks, has 1
  m.block_indptr_host = {0, 1};
  m.block_indices_host = {1};
  m.slot_mapping_host = {0};
  AttentionParams p;
  EXPECT_EQ(PagedAttention(ctx, q, kc, kc, m, p, out).code(), StatusCode::kInvalidArgument);
  m.seq_lens_host = {3};
  m.block_indices_host = {2};  // outside the cache
  EXPECT_EQ(PagedAttention(ctx, q, kc, kc, m, p, out).code(), StatusCode::kInvalidArgument);
  m.block_indices_host = {1};
  EXPECT_TRUE(PagedAttention(ctx, q, kc, kc, m, p, out).ok());
  Tensor q3 = RandomTensor(Shape{1, 3, 8}, DType::kF32, 1);
  Tensor kc2 = Tensor::EmptyHost(Shape{2, 4, 2, 8}, DType::kF32);
  Tensor out3 = Tensor::EmptyHost(Shape{1, 3, 8}, DType::kF32);
  EXPECT_EQ(PagedAttention(ctx, q3, kc2, kc2, m, p, out3).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pagellm::ops

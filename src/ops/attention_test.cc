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

// Builds metadata + caches holding every sequence's K/V (context via WriteKVCache of a first
// pass, new tokens via the step's WriteKVCache), runs PagedAttention, compares to dense math.
void RunScenario(const Scenario& sc, uint32_t seed) {
  ExecCtx ctx;
  std::mt19937 rng(seed);
  AttentionMetadata m;
  m.num_seqs = static_cast<int32_t>(sc.seqs.size());
  m.block_size = static_cast<int32_t>(sc.block_size);
  int64_t total_blocks = 0;
  for (const SeqSpec& s : sc.seqs)
    total_blocks += (s.context + s.query + sc.block_size - 1) / sc.block_size;
  int64_t num_blocks = total_blocks + 3;
  std::vector<int32_t> pool(num_blocks);
  std::iota(pool.begin(), pool.end(), 0);
  std::shuffle(pool.begin(), pool.end(), rng);
  Tensor k_cache = Tensor::EmptyHost(Shape{num_blocks, sc.block_size, sc.hk, sc.d}, sc.cache_dtype);
  Tensor v_cache = Tensor::EmptyHost(k_cache.shape(), sc.cache_dtype);
  // Dense per-sequence K/V [len, hk, d], rounded to the cache dtype.
  std::vector<Tensor> dense_k, dense_v;
  std::vector<int32_t> all_slots;  // slots for every position of every sequence
  m.query_start_loc_host = {0};
  m.block_indptr_host = {0};
  size_t next = 0;
  for (size_t s = 0; s < sc.seqs.size(); ++s) {
    int64_t len = sc.seqs[s].context + sc.seqs[s].query;
    int64_t nb = (len + sc.block_size - 1) / sc.block_size;
    for (int64_t b = 0; b < nb; ++b) m.block_indices_host.push_back(pool[next++]);
    m.block_indptr_host.push_back(static_cast<int32_t>(m.block_indices_host.size()));
    m.query_start_loc_host.push_back(m.query_start_loc_host.back() +
                                     static_cast<int32_t>(sc.seqs[s].query));
    m.seq_lens_host.push_back(static_cast<int32_t>(len));
    dense_k.push_back(RandomTensor(Shape{len, sc.hk, sc.d}, sc.cache_dtype, seed + 10 * s + 1));
    dense_v.push_back(RandomTensor(Shape{len, sc.hk, sc.d}, sc.cache_dtype, seed + 10 * s + 2));
    for (int64_t p = 0; p < len; ++p) {
      int32_t blk = m.block_indices_host[m.block_indptr_host[s] + p / sc.block_size];
      int32_t slot = static_cast<int32_t>(blk * sc.block_size + p % sc.block_size);
      all_slots.push_back(slot);
      if (p >= sc.seqs[s].context) m.slot_mapping_host.push_back(slot);
    }
  }
  m.num_tokens = m.query_start_loc_host.back();
  m.max_query_len = 0;
  for (const SeqSpec& s : sc.seqs) m.max_query_len = std::max<int32_t>(m.max_query_len, s.query);
  // Context K/V: one WriteKVCache over every position (a metadata with only slot_mapping).
  {
    std::vector<float> kall, vall;
    for (size_t s = 0; s < sc.seqs.size(); ++s) {
      auto kf = dense_k[s].ToFloatVector(), vf = dense_v[s].ToFloatVector();
      kall.insert(kall.end(), kf.begin(), kf.end());
      vall.insert(vall.end(), vf.begin(), vf.end());
    }
    int64_t n = static_cast<int64_t>(all_slots.size());
    AttentionMetadata fill;
    fill.num_tokens = static_cast<int32_t>(n);
    fill.block_size = m.block_size;
    fill.slot_mapping_host = all_slots;
    Tensor kt = Tensor::FromVector(kall, Shape{n, sc.hk, sc.d});
    Tensor vt = Tensor::FromVector(vall, Shape{n, sc.hk, sc.d});
    ASSERT_TRUE(WriteKVCache(ctx, kt, vt, fill, k_cache, v_cache).ok());
  }
  int64_t t_n = m.num_tokens;
  Tensor q = RandomTensor(Shape{t_n, sc.hq, sc.d}, sc.act_dtype, seed + 999);
  Tensor out = Tensor::EmptyHost(Shape{t_n, sc.hq, sc.d}, sc.act_dtype);
  Status st = PagedAttention(ctx, q, k_cache, v_cache, m, sc.params, out);
  ASSERT_TRUE(st.ok()) << st.ToString();

  // Dense reference.
  std::vector<double> qd = ToDouble(q), want(qd.size());
  std::vector<double> slopes;
  if (sc.params.alibi_slopes) slopes = ToDouble(*sc.params.alibi_slopes);
  int64_t group = sc.hq / sc.hk;
  for (size_t s = 0; s < sc.seqs.size(); ++s) {
    std::vector<double> kd = ToDouble(dense_k[s]), vd = ToDouble(dense_v[s]);
    for (int64_t j = 0; j < sc.seqs[s].query; ++j) {
      int64_t t = m.query_start_loc_host[s] + j, p = sc.seqs[s].context + j;
      int64_t lo = sc.params.sliding_window > 0 ? std::max<int64_t>(0, p - sc.params.sliding_window + 1) : 0;
      for (int64_t h = 0; h < sc.hq; ++h) {
        int64_t kvh = h / group;
        std::vector<double> w;
        for (int64_t x = lo; x <= p; ++x) {
          double dot = 0;
          for (int64_t e = 0; e < sc.d; ++e)
            dot += qd[(t * sc.hq + h) * sc.d + e] * kd[(x * sc.hk + kvh) * sc.d + e];
          double sv = dot * sc.params.scale;
          if (sc.params.logit_softcap > 0)
            sv = sc.params.logit_softcap * std::tanh(sv / sc.params.logit_softcap);
          if (!slopes.empty()) sv += slopes[h] * static_cast<double>(x - p);
          w.push_back(sv);
        }
        double mx = *std::max_element(w.begin(), w.end()), sum = 0;
        for (double& v : w) sum += (v = std::exp(v - mx));
        for (int64_t e = 0; e < sc.d; ++e) {
          double acc = 0;
          for (int64_t x = lo; x <= p; ++x) acc += w[x - lo] / sum * vd[(x * sc.hk + kvh) * sc.d + e];
          want[(t * sc.hq + h) * sc.d + e] = acc;
        }
      }
    }
  }
  ExpectClose(want, out, 2 * testing::TolFor(sc.act_dtype), 1e-2);
}

std::vector<SeqSpec> MixedBatch() {
  // Decodes, a fresh prefill, a chunked prefill continuing a context, a 1-token sequence.
  return {{9, 1}, {0, 13}, {6, 5}, {0, 1}, {30, 1}, {17, 3}};
}

TEST(PagedAttentionTest, MhaMixedBatch) {
  Scenario sc;
  sc.hq = 3; sc.hk = 3; sc.d = 17;
  sc.seqs = MixedBatch();
  sc.params.scale = 1.f / std::sqrt(17.f);
  RunScenario(sc, 1);
}

TEST(PagedAttentionTest, Gqa4To1AndMqa) {
  for (int64_t hk : {2, 1}) {
    Scenario sc;
    sc.hq = 8; sc.hk = hk; sc.d = 16; sc.block_size = 16;
    sc.seqs = {{0, 20}, {33, 1}, {40, 2}};
    sc.params.scale = 0.25f;
    RunScenario(sc, 2 + static_cast<uint32_t>(hk));
  }
}

TEST(PagedAttentionTest, SlidingWindow) {
  for (int window : {1, 4, 7, 100}) {
    Scenario sc;
    sc.hq = 4; sc.hk = 2; sc.d = 8; sc.block_size = 3;
    sc.seqs = MixedBatch();
    sc.params.scale = 0.3f;
    sc.params.sliding_window = window;
    RunScenario(sc, 10 + window);
  }
}

TEST(PagedAttentionTest, SoftcapAndAlibi) {
  Scenario sc;
  sc.hq = 4; sc.hk = 4; sc.d = 8;
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
      sc.hq = 4; sc.hk = 1; sc.d = 16; sc.block_size = 5;
      sc.cache_dtype = cache;
      sc.act_dtype = act;
      sc.seqs = MixedBatch();
      sc.params.scale = 0.25f;
      RunScenario(sc, 30);
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
  m.num_seqs = 1; m.num_tokens = 1; m.block_size = 4;
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

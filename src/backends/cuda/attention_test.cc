// WriteKVCache + PagedAttention vs a double-precision host reference: random non-contiguous
// block tables, mixed prefill / chunked-prefill / decode batches, GQA and MQA, sliding window,
// ALiBi, softcap, and long decode contexts that take the split-K path.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "backends/cuda/cuda_test_util.h"

namespace pagellm::cuda {
namespace {

using namespace pagellm::cuda::testing;  // NOLINT

struct SeqSpec {
  int cached, new_tokens;  // context already in the cache, tokens of this step
};

struct AttnCase {
  const char* name;
  int hq, hk, d, block_size;
  std::vector<SeqSpec> seqs;
  int window = 0;
  float softcap = 0.f;
  bool alibi = false;
};

struct Fixture {
  AttentionMetadata meta;
  std::vector<float> q, k_cache, v_cache;  // host copies; caches include this step's K/V
  std::vector<float> k_new, v_new;
  std::vector<int> token_seq, token_pos;
  int num_blocks = 0, tokens = 0;
};

Fixture Build(const AttnCase& c, DType dt, std::mt19937& rng) {
  Fixture f;
  AttentionMetadata& m = f.meta;
  m.num_seqs = static_cast<int>(c.seqs.size());
  m.block_size = c.block_size;
  int total_blocks = 0;
  for (const SeqSpec& s : c.seqs)
    total_blocks += (s.cached + s.new_tokens + c.block_size - 1) / c.block_size;
  f.num_blocks = total_blocks + 5;
  std::vector<int32_t> perm(f.num_blocks);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  m.query_start_loc_host = {0};
  m.block_indptr_host = {0};
  int next = 0;
  for (size_t i = 0; i < c.seqs.size(); ++i) {
    const SeqSpec& s = c.seqs[i];
    const int len = s.cached + s.new_tokens;
    const int nb = (len + c.block_size - 1) / c.block_size;
    for (int b = 0; b < nb; ++b) m.block_indices_host.push_back(perm[next++]);
    m.block_indptr_host.push_back(static_cast<int32_t>(m.block_indices_host.size()));
    m.query_start_loc_host.push_back(m.query_start_loc_host.back() + s.new_tokens);
    m.seq_lens_host.push_back(len);
    for (int t = 0; t < s.new_tokens; ++t) {
      const int pos = s.cached + t;
      const int block = m.block_indices_host[m.block_indptr_host[i] + pos / c.block_size];
      m.slot_mapping_host.push_back(block * c.block_size + pos % c.block_size);
      m.positions_host.push_back(pos);
      f.token_seq.push_back(static_cast<int>(i));
      f.token_pos.push_back(pos);
    }
    m.max_query_len = std::max(m.max_query_len, s.new_tokens);
    m.max_seq_len = std::max(m.max_seq_len, len);
  }
  f.tokens = m.num_tokens = m.query_start_loc_host.back();
  m.is_pure_decode =
      std::all_of(c.seqs.begin(), c.seqs.end(), [](auto& s) { return s.new_tokens == 1; });
  m.query_start_loc = IntsToDevice(m.query_start_loc_host);
  m.seq_lens = IntsToDevice(m.seq_lens_host);
  m.block_indptr = IntsToDevice(m.block_indptr_host);
  m.block_indices = IntsToDevice(m.block_indices_host);
  m.slot_mapping = IntsToDevice(m.slot_mapping_host);
  m.positions = IntsToDevice(m.positions_host);
  const int64_t row = static_cast<int64_t>(c.hk) * c.d;
  f.k_cache = RandomValues(rng, f.num_blocks * c.block_size * row, dt);
  f.v_cache = RandomValues(rng, f.num_blocks * c.block_size * row, dt);
  f.k_new = RandomValues(rng, f.tokens * row, dt);
  f.v_new = RandomValues(rng, f.tokens * row, dt);
  f.q = RandomValues(rng, static_cast<int64_t>(f.tokens) * c.hq * c.d, dt);
  return f;
}

// Cache contents after this step's K/V are written (host mirror of WriteKVCache).
void ApplyWrites(const AttnCase& c, Fixture& f) {
  const int64_t row = static_cast<int64_t>(c.hk) * c.d;
  for (int t = 0; t < f.tokens; ++t) {
    const int64_t slot = f.meta.slot_mapping_host[t];
    std::copy_n(f.k_new.begin() + t * row, row, f.k_cache.begin() + slot * row);
    std::copy_n(f.v_new.begin() + t * row, row, f.v_cache.begin() + slot * row);
  }
}

std::vector<double> Reference(const AttnCase& c, const Fixture& f, const std::vector<float>& slopes,
                              float scale) {
  std::vector<double> out(static_cast<size_t>(f.tokens) * c.hq * c.d, 0.0);
  const int group = c.hq / c.hk;
  for (int t = 0; t < f.tokens; ++t) {
    const int s = f.token_seq[t], p = f.token_pos[t];
    const int lo = c.window > 0 ? std::max(0, p - c.window + 1) : 0;
    for (int h = 0; h < c.hq; ++h) {
      const int kvh = h / group;
      std::vector<double> sc;
      for (int j = lo; j <= p; ++j) {
        const int block = f.meta.block_indices_host[f.meta.block_indptr_host[s] + j / c.block_size];
        const int64_t base =
            ((static_cast<int64_t>(block) * c.block_size + j % c.block_size) * c.hk + kvh) * c.d;
        double dot = 0;
        for (int e = 0; e < c.d; ++e)
          dot += double(f.q[(static_cast<int64_t>(t) * c.hq + h) * c.d + e]) * f.k_cache[base + e];
        double x = dot * scale;
        if (c.softcap > 0) x = c.softcap * std::tanh(x / c.softcap);
        if (c.alibi) x += double(slopes[h]) * (j - p);
        sc.push_back(x);
      }
      const double mx = *std::max_element(sc.begin(), sc.end());
      double den = 0;
      for (double& x : sc) den += (x = std::exp(x - mx));
      double* o = out.data() + (static_cast<int64_t>(t) * c.hq + h) * c.d;
      for (int j = lo; j <= p; ++j) {
        const int block = f.meta.block_indices_host[f.meta.block_indptr_host[s] + j / c.block_size];
        const int64_t base =
            ((static_cast<int64_t>(block) * c.block_size + j % c.block_size) * c.hk + kvh) * c.d;
        for (int e = 0; e < c.d; ++e) o[e] += sc[j - lo] / den * f.v_cache[base + e];
      }
    }
  }
  return out;
}

void RunCase(const AttnCase& c, DType dt, std::mt19937& rng) {
  SCOPED_TRACE(std::string(c.name) + " " + std::string(DTypeName(dt)));
  Fixture f = Build(c, dt, rng);
  const Shape cache_shape{f.num_blocks, c.block_size, c.hk, c.d};
  Tensor kc = ToDevice(f.k_cache, cache_shape, dt), vc = ToDevice(f.v_cache, cache_shape, dt);
  Tensor kn = ToDevice(f.k_new, Shape{f.tokens, c.hk, c.d}, dt);
  Tensor vn = ToDevice(f.v_new, Shape{f.tokens, c.hk, c.d}, dt);
  Status st = ops::WriteKVCache(GpuCtx(), kn, vn, f.meta, kc, vc);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ApplyWrites(c, f);
  EXPECT_EQ(RelError(ToHostFloats(kc), {f.k_cache.begin(), f.k_cache.end()}), 0.0);
  EXPECT_EQ(RelError(ToHostFloats(vc), {f.v_cache.begin(), f.v_cache.end()}), 0.0);
  std::vector<float> slopes(c.hq);
  for (int h = 0; h < c.hq; ++h) slopes[h] = std::pow(2.f, -8.f * (h + 1) / c.hq);
  Tensor dslopes = ToDevice(slopes, Shape{c.hq}, DType::kF32);
  AttentionParams params;
  params.scale = 1.f / std::sqrt(static_cast<float>(c.d));
  params.sliding_window = c.window;
  params.logit_softcap = c.softcap;
  params.alibi_slopes = c.alibi ? &dslopes : nullptr;
  Tensor q = ToDevice(f.q, Shape{f.tokens, c.hq, c.d}, dt);
  Tensor out = Poisoned(Shape{f.tokens, c.hq, c.d}, dt);
  st = ops::PagedAttention(GpuCtx(), q, kc, vc, f.meta, params, out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const double err = RelError(ToHostFloats(out), Reference(c, f, slopes, params.scale));
  EXPECT_LE(err, Tolerance(dt));
}

const AttnCase kCases[] = {
    {"mixed_gqa", 8, 2, 128, 16, {{0, 17}, {40, 1}, {100, 30}, {7, 1}, {0, 1}, {15, 2}}},
    {"long_decode_splits", 4, 4, 64, 16, {{3000, 1}, {1500, 1}, {33, 1}}},
    {"window_softcap_alibi", 6, 3, 96, 16, {{700, 1}, {10, 50}, {64, 1}, {0, 5}}, 20, 30.f, true},
    {"mqa_d80_bs8", 16, 1, 80, 8, {{300, 1}, {5, 40}, {1, 3}}},
    {"d256_group8", 8, 1, 256, 32, {{0, 70}, {900, 1}, {31, 2}}},
    {"long_window_decode", 4, 2, 64, 16, {{2500, 1}, {100, 1}}, 1000},
    {"group8_d64", 16, 2, 64, 16, {{500, 1}, {2, 1}, {40, 9}}},
    // f16/bf16 decode: the tensor-core kernel for d 64/128 (window + softcap + ALiBi, long
    // splits, group 16, chunk boundaries), the tiled CUDA-core kernel for d 256.
    {"tiled_window_softcap_alibi", 8, 2, 128, 16, {{700, 1}, {10, 50}, {64, 1}, {33, 1}}, 100, 30.f,
     true},
    {"tiled_long_splits_bs8", 32, 8, 128, 8, {{4000, 1}, {1, 1}, {129, 1}, {31, 1}}},
    {"tiled_group16", 16, 1, 128, 16, {{300, 1}, {2, 1}, {64, 3}}},
    {"mma_group4_boundaries", 32, 8, 128, 16,
     {{0, 1}, {14, 1}, {15, 1}, {16, 1}, {63, 1}, {64, 1}, {65, 1}, {200, 1}, {1000, 1}}},
    {"mma_group2_d64_window", 4, 2, 64, 16, {{300, 1}, {49, 1}, {51, 1}, {20, 4}}, 50},
    {"prefill_long_gqa", 32, 8, 128, 16, {{0, 300}, {200, 130}, {0, 65}, {31, 1}}},
    {"prefill_window_mha_d64", 4, 4, 64, 16, {{0, 200}, {50, 100}, {3, 1}}, 40},
    {"tiled_d256_window_softcap_alibi", 4, 2, 256, 16, {{300, 1}, {90, 1}, {7, 3}}, 100, 30.f,
     true},
};

class CudaAttention : public ::testing::TestWithParam<std::tuple<int, DType>> {
 protected:
  void SetUp() override { PAGELLM_SKIP_WITHOUT_CUDA(); }
};

TEST_P(CudaAttention, MatchesReference) {
  const auto [index, dtype] = GetParam();
  std::mt19937 rng(7 + index);
  RunCase(kCases[index], dtype, rng);
}

TEST(CudaAttentionValidation, RejectsBlockIdsOutsideTheCache) {
  PAGELLM_SKIP_WITHOUT_CUDA();
  std::mt19937 rng(3);
  AttnCase c{"bad", 2, 2, 64, 16, {{10, 1}}};
  Fixture f = Build(c, DType::kF32, rng);
  f.meta.block_indices_host[0] = f.num_blocks + 3;
  Tensor kc = Poisoned(Shape{f.num_blocks, 16, 2, 64}, DType::kF32), vc = kc;
  Tensor q = Poisoned(Shape{1, 2, 64}, DType::kF32), out = q;
  AttentionParams params;
  EXPECT_FALSE(ops::PagedAttention(GpuCtx(), q, kc, vc, f.meta, params, out).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CudaAttention,
    ::testing::Combine(::testing::Range(0, static_cast<int>(std::size(kCases))),
                       ::testing::Values(DType::kF32, DType::kF16, DType::kBF16)),
    [](const auto& info) {
      return std::string(kCases[std::get<0>(info.param)].name) + "_" +
             std::string(DTypeName(std::get<1>(info.param)));
    });

}  // namespace
}  // namespace pagellm::cuda

// GPU sampler vs a host reference that follows sample/sampler.cc (temperature, min_p, top_k,
// top_p in that order, inverse CDF in index order, raw logprobs). Logits are continuous random
// values, so no ties sit on a boundary and the sampled ids must match exactly.
#include "backends/cuda/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "backends/cuda/cuda_test_util.h"

namespace pagellm::cuda {
namespace {

using namespace pagellm::cuda::testing;  // NOLINT
constexpr float kNegInf = -INFINITY;

std::vector<double> Softmax(const std::vector<float>& l) {
  const float m = *std::max_element(l.begin(), l.end());
  std::vector<double> p(l.size());
  double s = 0;
  for (size_t i = 0; i < l.size(); ++i) s += p[i] = std::exp(double(l[i]) - m);
  for (double& v : p) v /= s;
  return p;
}

int32_t Reference(std::vector<float> l, const GpuSamplingRow& pr) {
  if (pr.temperature < 1e-5f) return std::max_element(l.begin(), l.end()) - l.begin();
  for (float& x : l) x /= pr.temperature;
  if (pr.min_p > 0) {
    auto p = Softmax(l);
    const double thr = pr.min_p * *std::max_element(p.begin(), p.end());
    for (size_t i = 0; i < l.size(); ++i)
      if (p[i] < thr) l[i] = kNegInf;
  }
  if (pr.top_k > 0 && pr.top_k < static_cast<int>(l.size())) {
    std::vector<float> s = l;
    std::nth_element(s.begin(), s.begin() + pr.top_k - 1, s.end(), std::greater<>());
    for (float& x : l)
      if (x < s[pr.top_k - 1]) x = kNegInf;
  }
  if (pr.top_p < 1) {
    auto p = Softmax(l);
    std::vector<int32_t> order(l.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](int32_t a, int32_t b) { return p[a] != p[b] ? p[a] < p[b] : a > b; });
    double cum = 0;
    for (size_t i = 0; i + 1 < order.size(); ++i) {
      cum += p[order[i]];
      if (cum <= 1.0 - pr.top_p)
        l[order[i]] = kNegInf;
      else
        break;
    }
  }
  auto p = Softmax(l);
  const double target = pr.u * std::accumulate(p.begin(), p.end(), 0.0);
  double cum = 0;
  int32_t last = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0) continue;
    cum += p[i];
    last = static_cast<int32_t>(i);
    if (cum > target) return last;
  }
  return last;
}

TEST(CudaSampling, MatchesCpuSemantics) {
  PAGELLM_SKIP_WITHOUT_CUDA();
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> unif(0, 1);
  const int64_t vocab = 5003;
  std::vector<GpuSamplingRow> rows;
  for (float t : {0.f, 1.f, 0.7f}) {
    for (int k : {0, 1, 40}) {
      for (float top_p : {1.f, 0.9f, 0.3f}) {
        for (float min_p : {0.f, 0.05f}) {
          GpuSamplingRow r;
          r.temperature = t;
          r.top_k = k;
          r.top_p = top_p;
          r.min_p = min_p;
          r.u = unif(rng);
          rows.push_back(r);
        }
      }
    }
  }
  rows.push_back({1.f, 0, 1.f, 0.f, 0.9999999});
  const int64_t n = static_cast<int64_t>(rows.size());
  for (DType dt : {DType::kF32, DType::kBF16}) {
    auto logits = RandomValues(rng, n * vocab, dt, -6, 6);
    Tensor dl = ToDevice(logits, Shape{n, vocab}, dt);
    Tensor ids = Poisoned(Shape{n}, DType::kI32), lps = Poisoned(Shape{n}, DType::kF32);
    Status st = SampleRows(GpuCtx(), dl.data(), dt, vocab, n, vocab, rows.data(),
                           ids.data<int32_t>(), lps.data<float>());
    ASSERT_TRUE(st.ok()) << st.ToString();
    std::vector<float> got = ToHostFloats(ids), got_lp = ToHostFloats(lps);
    for (int64_t i = 0; i < n; ++i) {
      // bf16 values tie often; top-p breaks ties by id on the CPU only (see sampling.h).
      if (dt != DType::kF32 && rows[i].top_p < 1.f) continue;
      std::vector<float> row(logits.begin() + i * vocab, logits.begin() + (i + 1) * vocab);
      const int32_t want = Reference(row, rows[i]);
      EXPECT_EQ(static_cast<int32_t>(got[i]), want)
          << "row " << i << " T " << rows[i].temperature << " k " << rows[i].top_k << " p "
          << rows[i].top_p << " min_p " << rows[i].min_p << " u " << rows[i].u;
      const float m = *std::max_element(row.begin(), row.end());
      double s = 0;
      for (float x : row) s += std::exp(double(x) - m);
      EXPECT_NEAR(got_lp[i], row[want] - m - std::log(s), 1e-4) << "row " << i;
    }
  }
}

}  // namespace
}  // namespace pagellm::cuda

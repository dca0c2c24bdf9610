// BuildRopeCosSin vs closed forms. The formulas (and the Llama 3.1 / Qwen2 YaRN / Phi-3 style
// parameter values) follow transformers' modeling_rope_utils.py ROPE_INIT_FUNCTIONS; the
// expected values here are recomputed independently in double precision.
#include "ops/rope_table.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pagellm {
namespace {

constexpr double kPi = 3.14159265358979323846;

double InvFreq(double theta, int dim, int i) { return std::pow(theta, -2.0 * i / dim); }

// Expects table[p, i] == scale * cos(p * inv[i]) and the sin half likewise.
void ExpectTable(const Tensor& t, const std::vector<double>& inv, double scale, int positions,
                 double tol) {
  int rot = static_cast<int>(t.dim(1)), half = rot / 2;
  const float* d = t.data<float>();
  for (int p = 0; p < positions; ++p)
    for (int i = 0; i < half; ++i) {
      ASSERT_NEAR(d[p * rot + i], scale * std::cos(p * inv[i]), tol) << "cos p=" << p << " i=" << i;
      ASSERT_NEAR(d[p * rot + half + i], scale * std::sin(p * inv[i]), tol)
          << "sin p=" << p << " i=" << i;
    }
}

std::vector<double> DefaultInv(double theta, int dim) {
  std::vector<double> inv;
  for (int i = 0; i < dim / 2; ++i) inv.push_back(InvFreq(theta, dim, i));
  return inv;
}

TEST(RopeTableTest, Default) {
  auto t = BuildRopeCosSin(64, 100, 10000.0, RopeScalingParams{});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->shape(), (Shape{100, 64}));
  ExpectTable(*t, DefaultInv(10000.0, 64), 1.0, 100, 3e-5);
}

TEST(RopeTableTest, Linear) {
  RopeScalingParams p;
  p.type = "linear";
  p.factor = 4.0;
  auto t = BuildRopeCosSin(32, 50, 10000.0, p);
  ASSERT_TRUE(t.ok());
  std::vector<double> inv = DefaultInv(10000.0, 32);
  for (double& v : inv) v /= 4.0;
  ExpectTable(*t, inv, 1.0, 50, 3e-5);
}

TEST(RopeTableTest, DynamicNtk) {
  RopeScalingParams p;
  p.type = "dynamic";
  p.factor = 2.0;
  p.max_position_embeddings = 64;
  auto t = BuildRopeCosSin(16, 100, 10000.0, p);  // seq_len unset: the original table
  ASSERT_TRUE(t.ok());
  ExpectTable(*t, DefaultInv(10000.0, 16), 1.0, 100, 3e-5);
  p.seq_len = 100;  // base = theta * (factor * L / max - (factor - 1)) ** (dim / (dim - 2))
  double base = 10000.0 * std::pow(2.0 * 100 / 64 - 1.0, 16.0 / 14.0);
  auto t2 = BuildRopeCosSin(16, 100, 10000.0, p);
  ASSERT_TRUE(t2.ok());
  ExpectTable(*t2, DefaultInv(base, 16), 1.0, 100, 3e-5);
}

TEST(RopeTableTest, Llama3) {
  RopeScalingParams p;  // Llama 3.1 8B values
  p.type = "llama3";
  p.factor = 8.0;
  p.low_freq_factor = 1.0;
  p.high_freq_factor = 4.0;
  p.original_max_position_embeddings = 8192;
  auto t = BuildRopeCosSin(128, 64, 500000.0, p);
  ASSERT_TRUE(t.ok());
  std::vector<double> inv = DefaultInv(500000.0, 128);
  int low = 0, mid = 0, high = 0;
  for (double& f : inv) {
    double wl = 2 * kPi / f;
    if (wl < 8192.0 / 4) {
      ++high;
    } else if (wl > 8192.0 / 1) {
      f /= 8.0;
      ++low;
    } else {
      double s = (8192.0 / wl - 1.0) / (4.0 - 1.0);
      f = (1 - s) * f / 8.0 + s * f;
      ++mid;
    }
  }
  EXPECT_GT(low, 0);
  EXPECT_GT(mid, 0);
  EXPECT_GT(high, 0);
  ExpectTable(*t, inv, 1.0, 64, 3e-5);
}

TEST(RopeTableTest, Yarn) {
  RopeScalingParams p;  // Qwen2.5-style YaRN
  p.type = "yarn";
  p.factor = 4.0;
  p.original_max_position_embeddings = 32768;
  p.max_position_embeddings = 131072;
  int dim = 128;
  double theta = 1e6;
  auto t = BuildRopeCosSin(dim, 64, theta, p);
  ASSERT_TRUE(t.ok());
  auto corr = [&](double rot) {
    return dim * std::log(32768.0 / (rot * 2 * kPi)) / (2 * std::log(theta));
  };
  double lo = std::max(std::floor(corr(32.0)), 0.0), hi = std::min(std::ceil(corr(1.0)), dim - 1.0);
  std::vector<double> inv;
  for (int i = 0; i < dim / 2; ++i) {
    double ramp = std::clamp((i - lo) / (hi - lo), 0.0, 1.0);
    double extra = 1 - ramp, f = InvFreq(theta, dim, i);
    inv.push_back(f / 4.0 * (1 - extra) + f * extra);
  }
  double mscale = 0.1 * std::log(4.0) + 1.0;
  ExpectTable(*t, inv, mscale, 64, 5e-5);
  p.attention_factor = 1.0;  // explicit attention_factor wins
  auto t2 = BuildRopeCosSin(dim, 1, theta, p);
  ASSERT_TRUE(t2.ok());
  EXPECT_FLOAT_EQ(t2->data<float>()[0], 1.f);
}

TEST(RopeTableTest, LongRope) {
  RopeScalingParams p;  // Phi-3 style: top-level original_max_position_embeddings
  p.type = "longrope";
  p.max_position_embeddings = 131072;
  p.original_max_position_embeddings = 4096;
  int dim = 8;
  p.short_factor = {1.0, 1.5, 2.0, 3.0};
  p.long_factor = {2.0, 4.0, 8.0, 16.0};
  double af = std::sqrt(1 + std::log(32.0) / std::log(4096.0));
  for (int64_t seq : {0, 5000}) {
    p.seq_len = seq;
    auto t = BuildRopeCosSin(dim, 40, 10000.0, p);
    ASSERT_TRUE(t.ok());
    const std::vector<double>& ext = seq > 4096 ? p.long_factor : p.short_factor;
    std::vector<double> inv;
    for (int i = 0; i < dim / 2; ++i) inv.push_back(InvFreq(10000.0, dim, i) / ext[i]);
    ExpectTable(*t, inv, af, 40, 5e-5);
  }
  p.short_factor = {1.0};
  p.seq_len = 0;
  EXPECT_FALSE(BuildRopeCosSin(dim, 4, 10000.0, p).ok());
}

TEST(RopeTableTest, RejectsUnknownTypeAndBadSizes) {
  RopeScalingParams p;
  p.type = "mystery";
  EXPECT_EQ(BuildRopeCosSin(8, 4, 1e4, p).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(BuildRopeCosSin(7, 4, 1e4, RopeScalingParams{}).ok());
  EXPECT_FALSE(BuildRopeCosSin(8, 0, 1e4, RopeScalingParams{}).ok());
}

}  // namespace
}  // namespace pagellm

// ApplyRotary (NeoX / GPT-J, partial rotary, strided q/k views) vs a double reference.
#include <gtest/gtest.h>

#include "ops/op_test_util.h"
#include "ops/ops.h"
#include "ops/rope_table.h"

namespace pagellm::ops {
namespace {

using testing::ExpectClose;
using testing::RandomTensor;
using testing::ToDouble;

// Rotates x [T, H, D] (double) with the table at positions.
std::vector<double> RefRotary(std::vector<double> x, int64_t t_n, int64_t h_n, int64_t d,
                              const std::vector<int32_t>& pos, const Tensor& cs, int rot,
                              RopeStyle style) {
  std::vector<double> c = ToDouble(cs);
  int half = rot / 2;
  for (int64_t t = 0; t < t_n; ++t)
    for (int64_t h = 0; h < h_n; ++h) {
      double* v = x.data() + (t * h_n + h) * d;
      const double* co = c.data() + static_cast<int64_t>(pos[t]) * rot;
      const double* si = co + half;
      for (int i = 0; i < half; ++i) {
        int a = style == RopeStyle::kNeox ? i : 2 * i;
        int b = style == RopeStyle::kNeox ? i + half : 2 * i + 1;
        double x1 = v[a], x2 = v[b];
        v[a] = x1 * co[i] - x2 * si[i];
        v[b] = x2 * co[i] + x1 * si[i];
      }
    }
  return x;
}

struct RotaryCase {
  RopeStyle style;
  int rot;
  DType dtype;
};

class RotaryTest : public ::testing::TestWithParam<RotaryCase> {};

TEST_P(RotaryTest, MatchesReference) {
  RotaryCase c = GetParam();
  ExecCtx ctx;
  int64_t t_n = 5, hq = 4, hk = 2, d = 16;
  auto table = BuildRopeCosSin(c.rot, 64, 10000.0, RopeScalingParams{});
  ASSERT_TRUE(table.ok());
  std::vector<int32_t> pos = {0, 1, 7, 63, 30};
  // q and k as strided views of one fused [T, hq + 2 hk, D] qkv tensor, as a model makes them.
  Tensor qkv = RandomTensor(Shape{t_n, hq + 2 * hk, d}, c.dtype, 3);
  Tensor q = qkv.Slice(1, 0, hq), k = qkv.Slice(1, hq, hq + hk);
  std::vector<double> want_q = RefRotary(ToDouble(q), t_n, hq, d, pos, *table, c.rot, c.style);
  std::vector<double> want_k = RefRotary(ToDouble(k), t_n, hk, d, pos, *table, c.rot, c.style);
  std::vector<double> v_before = ToDouble(qkv.Slice(1, hq + hk, hq + 2 * hk));
  ASSERT_TRUE(ApplyRotary(ctx, Tensor::FromInts(pos), *table, c.rot, c.style, q, k).ok());
  ExpectClose(want_q, q, testing::TolFor(c.dtype), 1e-2, "q");
  ExpectClose(want_k, k, testing::TolFor(c.dtype), 1e-2, "k");
  ExpectClose(v_before, qkv.Slice(1, hq + hk, hq + 2 * hk), 0.0, 1e-3, "v untouched");
}

INSTANTIATE_TEST_SUITE_P(Styles, RotaryTest,
                         ::testing::Values(RotaryCase{RopeStyle::kNeox, 16, DType::kF32},
                                           RotaryCase{RopeStyle::kGptj, 16, DType::kF32},
                                           RotaryCase{RopeStyle::kNeox, 6, DType::kF32},
                                           RotaryCase{RopeStyle::kGptj, 8, DType::kF32},
                                           RotaryCase{RopeStyle::kNeox, 16, DType::kBF16},
                                           RotaryCase{RopeStyle::kGptj, 10, DType::kF16}));

TEST(RotaryTest, RejectsPositionOutsideTable) {
  ExecCtx ctx;
  auto table = BuildRopeCosSin(8, 4, 10000.0, RopeScalingParams{});
  ASSERT_TRUE(table.ok());
  Tensor q = RandomTensor(Shape{1, 2, 8}, DType::kF32, 1);
  Tensor k = RandomTensor(Shape{1, 1, 8}, DType::kF32, 2);
  Status s = ApplyRotary(ctx, Tensor::FromInts({4}), *table, 8, RopeStyle::kNeox, q, k);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("position 4"), std::string::npos) << s.message();
  EXPECT_EQ(ApplyRotary(ctx, Tensor::FromInts({0}), *table, 6, RopeStyle::kNeox, q, k).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pagellm::ops

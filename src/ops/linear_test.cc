// Linear / Embedding / GatherRows vs double-precision references.
#include <gtest/gtest.h>

#include "ops/op_test_util.h"
#include "ops/ops.h"

namespace pagellm::ops {
namespace {

using testing::ExpectClose;
using testing::RandomTensor;
using testing::ToDouble;

std::vector<double> RefLinear(const Tensor& x, const Tensor& w, const Tensor* b) {
  int64_t m = x.dim(0), k = x.dim(1), n = w.dim(0);
  std::vector<double> xd = ToDouble(x), wd = ToDouble(w), y(static_cast<size_t>(m * n));
  std::vector<double> bd = b ? ToDouble(*b) : std::vector<double>(n, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = bd[j];
      for (int64_t l = 0; l < k; ++l) acc += xd[i * k + l] * wd[j * k + l];
      y[i * n + j] = acc;
    }
  return y;
}

struct LinearCase {
  DType x, w, y;
};

class LinearTest : public ::testing::TestWithParam<LinearCase> {};

TEST_P(LinearTest, MatchesReference) {
  LinearCase c = GetParam();
  ExecCtx ctx;
  uint32_t seed = 1;
  for (int64_t m : {1, 3, 17, 40}) {
    for (int64_t n : {1, 3, 130}) {
      for (int64_t k : {1, 17, 130}) {
        for (bool with_bias : {false, true}) {
          Tensor x = RandomTensor(Shape{m, k}, c.x, seed++);
          Tensor w = RandomTensor(Shape{n, k}, c.w, seed++);
          Tensor b = RandomTensor(Shape{n}, c.w, seed++);
          std::vector<double> want = RefLinear(x, w, with_bias ? &b : nullptr);
          for (bool invariant : {false, true}) {
            ctx.batch_invariant = invariant;
            Tensor y = Tensor::EmptyHost(Shape{m, n}, c.y);
            ASSERT_TRUE(Linear(ctx, x, w, with_bias ? &b : nullptr, y).ok());
            // Sums of k products of magnitude <= 1: floor the relative error at sqrt(k) scale.
            ExpectClose(want, y, testing::TolFor(c.y), 0.05 * std::sqrt(static_cast<double>(k)),
                        "m=" + std::to_string(m) + " n=" + std::to_string(n) +
                            " k=" + std::to_string(k) + (invariant ? " invariant" : ""));
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LinearTest,
                         ::testing::Values(LinearCase{DType::kF32, DType::kF32, DType::kF32},
                                           LinearCase{DType::kF32, DType::kBF16, DType::kF32},
                                           LinearCase{DType::kF32, DType::kF16, DType::kF32},
                                           LinearCase{DType::kBF16, DType::kBF16, DType::kBF16},
                                           LinearCase{DType::kF16, DType::kF16, DType::kF16}));

TEST(LinearTest, StridedInputRows) {
  ExecCtx ctx;
  Tensor big = RandomTensor(Shape{5, 40}, DType::kF32, 7);
  Tensor x = big.Slice(1, 3, 20);  // [5, 17], row stride 40
  Tensor w = RandomTensor(Shape{9, 17}, DType::kBF16, 8);
  Tensor y = Tensor::EmptyHost(Shape{5, 9}, DType::kF32);
  ASSERT_TRUE(Linear(ctx, x, w, nullptr, y).ok());
  Tensor xc = Tensor::FromVector(x.ToFloatVector(), Shape{5, 17});
  ExpectClose(RefLinear(xc, w, nullptr), y, 2e-5, 0.2);
}

TEST(LinearTest, RejectsBadShapes) {
  ExecCtx ctx;
  Tensor x = RandomTensor(Shape{2, 4}, DType::kF32, 1);
  Tensor w = RandomTensor(Shape{3, 5}, DType::kF32, 2);
  Tensor y = Tensor::EmptyHost(Shape{2, 3}, DType::kF32);
  Status s = Linear(ctx, x, w, nullptr, y);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Linear"), std::string::npos) << s.message();
  Tensor w2 = RandomTensor(Shape{3, 4}, DType::kF32, 2);
  Tensor y_bad = Tensor::EmptyHost(Shape{2, 4}, DType::kF32);
  EXPECT_EQ(Linear(ctx, x, w2, nullptr, y_bad).code(), StatusCode::kInvalidArgument);
  Tensor yi = Tensor::EmptyHost(Shape{2, 3}, DType::kI32);
  EXPECT_EQ(Linear(ctx, x, w2, nullptr, yi).code(), StatusCode::kInvalidArgument);
  Tensor b = RandomTensor(Shape{4}, DType::kF32, 3);
  EXPECT_EQ(Linear(ctx, x, w2, &b, y).code(), StatusCode::kInvalidArgument);
  ExecCtx cuda{Device::Cuda(0)};
  EXPECT_FALSE(Linear(cuda, x, w2, nullptr, y).ok());
}

TEST(EmbeddingTest, GathersRowsAndChecksIds) {
  ExecCtx ctx;
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16}) {
    Tensor table = RandomTensor(Shape{11, 13}, t, 3);
    Tensor ids = Tensor::FromInts({4, 0, 10, 4});
    Tensor out = Tensor::EmptyHost(Shape{4, 13}, DType::kF32);
    ASSERT_TRUE(Embedding(ctx, ids, table, out).ok());
    std::vector<double> td = ToDouble(table), want;
    for (int id : {4, 0, 10, 4})
      for (int j = 0; j < 13; ++j) want.push_back(td[id * 13 + j]);
    ExpectClose(want, out, 0.0);
  }
  Tensor table = RandomTensor(Shape{11, 13}, DType::kF32, 3);
  Tensor out = Tensor::EmptyHost(Shape{2, 13}, DType::kF32);
  Status s = Embedding(ctx, Tensor::FromInts({3, 11}), table, out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("11"), std::string::npos) << s.message();
  EXPECT_FALSE(Embedding(ctx, Tensor::FromInts({-1, 0}), table, out).ok());
}

TEST(GatherRowsTest, PicksRows) {
  ExecCtx ctx;
  Tensor x = RandomTensor(Shape{7, 130}, DType::kBF16, 4);
  Tensor out = Tensor::EmptyHost(Shape{3, 130}, DType::kBF16);
  ASSERT_TRUE(GatherRows(ctx, x, Tensor::FromInts({6, 2, 2}), out).ok());
  std::vector<double> xd = ToDouble(x), want;
  for (int r : {6, 2, 2})
    for (int j = 0; j < 130; ++j) want.push_back(xd[r * 130 + j]);
  ExpectClose(want, out, 0.0);
  Tensor one = Tensor::EmptyHost(Shape{1, 130}, DType::kBF16);
  Status s = GatherRows(ctx, x, Tensor::FromInts({7}), one);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("index 7"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace pagellm::ops

namespace pagellm::ops {
namespace {

// With batch_invariant, each row's result must not depend on the batch it is computed in
// (engine invariant: batched output == one-by-one output), nor on the thread count.
TEST(LinearTest, BatchInvariant) {
  ExecCtx inv;
  inv.batch_invariant = true;
  for (DType wt : {DType::kF32, DType::kBF16}) {
    for (int64_t m : {2, 9, 64, 130}) {
      int64_t n = 300, k = 520;
      Tensor x = testing::RandomTensor(Shape{m, k}, DType::kF32, 11);
      Tensor w = testing::RandomTensor(Shape{n, k}, wt, 12);
      Tensor y = Tensor::EmptyHost(Shape{m, n}, DType::kF32);
      ASSERT_TRUE(Linear(inv, x, w, nullptr, y).ok());
      for (int64_t i : {int64_t{0}, m / 2, m - 1}) {
        for (int threads : {1, 0}) {
          ExecCtx ctx = inv;
          ctx.num_threads = threads;
          Tensor xi = x.Slice(0, i, i + 1);
          Tensor yi = Tensor::EmptyHost(Shape{1, n}, DType::kF32);
          ASSERT_TRUE(Linear(ctx, xi, w, nullptr, yi).ok());
          for (int64_t j = 0; j < n; ++j)
            ASSERT_EQ(yi.data<float>()[j], y.data<float>()[i * n + j])
                << "w " << DTypeName(wt) << " m " << m << " row " << i << " col " << j;
        }
      }
    }
  }
}

}  // namespace
}  // namespace pagellm::ops

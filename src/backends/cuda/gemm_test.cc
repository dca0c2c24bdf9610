// cuBLASLt Linear vs a double-precision host GEMM, awkward shapes, with and without bias.
#include <span>

#include "backends/cuda/allocator.h"
#include "backends/cuda/cuda_test_util.h"
#include "ops/graph.h"

namespace pagellm::cuda {
namespace {

using namespace pagellm::cuda::testing;  // NOLINT

struct GemmCase {
  int64_t t, in, out;
  bool bias;
};

class CudaGemm : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override { PAGELLM_SKIP_WITHOUT_CUDA(); }
  std::mt19937 rng_{42};
};

void CheckCases(DType dt, std::span<const GemmCase> cases, std::mt19937& rng) {
  for (const GemmCase& c : cases) {
    auto x = RandomValues(rng, c.t * c.in, dt), w = RandomValues(rng, c.out * c.in, dt);
    auto b = RandomValues(rng, c.out, dt);
    Tensor dx = ToDevice(x, Shape{c.t, c.in}, dt), dw = ToDevice(w, Shape{c.out, c.in}, dt);
    Tensor db = ToDevice(b, Shape{c.out}, dt), y = Poisoned(Shape{c.t, c.out}, dt);
    Status st = ops::Linear(GpuCtx(), dx, dw, c.bias ? &db : nullptr, y);
    ASSERT_TRUE(st.ok()) << st.ToString();
    std::vector<double> ref(c.t * c.out);
    for (int64_t i = 0; i < c.t; ++i)
      for (int64_t o = 0; o < c.out; ++o) {
        double acc = c.bias ? b[o] : 0.0;
        for (int64_t k = 0; k < c.in; ++k) acc += double(x[i * c.in + k]) * w[o * c.in + k];
        ref[i * c.out + o] = acc;
      }
    EXPECT_LE(RelError(ToHostFloats(y), ref), Tolerance(dt))
        << c.t << "x" << c.in << "x" << c.out << " bias " << c.bias;
  }
}

TEST_P(CudaGemm, MatchesReference) {
  const GemmCase cases[] = {{1, 64, 48, false},      {7, 129, 65, true},    {33, 256, 96, true},
                            {128, 1024, 520, false}, {300, 40, 1000, true}, {2, 4096, 8, false},
                            {3, 1001, 4096, true},   {4, 130, 264, true},  // GEMV path
                            // Decode-sized batches: row tails, long k.
                            {5, 64, 8, false},       {16, 4096, 200, true}, {37, 1000, 4104, false},
                            {64, 14336, 72, true},   {9, 8, 1, true}};
  CheckCases(GetParam(), cases, rng_);
}

// Under an AutotuneScope the first call of a shape times cuBLASLt's candidates (writing y
// several times) and keeps the fastest: results stay correct, then and on later calls. Shapes
// of their own, so that no earlier test has cached an untuned algorithm for them.
TEST_P(CudaGemm, AutotunedMatchesReference) {
  const GemmCase cases[] = {{17, 512, 384, true}, {256, 768, 1024, false}, {64, 2048, 520, true}};
  {
    ops::AutotuneScope tune(GpuCtx());
    CheckCases(GetParam(), cases, rng_);
  }
  CheckCases(GetParam(), cases, rng_);
}

// A float32 bias on a half-precision GEMM takes the separate broadcast-add path.
TEST_P(CudaGemm, BiasOfOtherDType) {
  const DType dt = GetParam();
  if (dt == DType::kF32) GTEST_SKIP() << "same dtype";
  const int64_t t = 5, in = 72, out = 33;
  auto x = RandomValues(rng_, t * in, dt), w = RandomValues(rng_, out * in, dt);
  auto b = RandomValues(rng_, out, DType::kF32);
  Tensor dx = ToDevice(x, Shape{t, in}, dt), dw = ToDevice(w, Shape{out, in}, dt);
  Tensor db = ToDevice(b, Shape{out}, DType::kF32), y = Poisoned(Shape{t, out}, dt);
  Status st = ops::Linear(GpuCtx(), dx, dw, &db, y);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::vector<double> ref(t * out);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b[o];
      for (int64_t k = 0; k < in; ++k) acc += double(x[i * in + k]) * w[o * in + k];
      ref[i * out + o] = acc;
    }
  EXPECT_LE(RelError(ToHostFloats(y), ref), 2 * Tolerance(dt));  // bias rounded, then added
}

// Half-precision operands with a float32 output (e.g. logits), with a float32 bias.
TEST_P(CudaGemm, FloatOutput) {
  const DType dt = GetParam();
  if (dt == DType::kF32) GTEST_SKIP() << "same dtype";
  const int64_t t = 9, in = 256, out = 300;
  auto x = RandomValues(rng_, t * in, dt), w = RandomValues(rng_, out * in, dt);
  auto b = RandomValues(rng_, out, DType::kF32);
  Tensor dx = ToDevice(x, Shape{t, in}, dt), dw = ToDevice(w, Shape{out, in}, dt);
  Tensor db = ToDevice(b, Shape{out}, DType::kF32), y = Poisoned(Shape{t, out}, DType::kF32);
  Status st = ops::Linear(GpuCtx(), dx, dw, &db, y);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::vector<double> ref(t * out);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b[o];
      for (int64_t k = 0; k < in; ++k) acc += double(x[i * in + k]) * w[o * in + k];
      ref[i * out + o] = acc;
    }
  EXPECT_LE(RelError(ToHostFloats(y), ref), 1e-5);  // f32 accumulate, f32 output
}

TEST(CudaGemmValidation, RejectsBadShapes) {
  PAGELLM_SKIP_WITHOUT_CUDA();
  Tensor x = Poisoned(Shape{3, 8}, DType::kF32), w = Poisoned(Shape{4, 9}, DType::kF32);
  Tensor y = Poisoned(Shape{3, 4}, DType::kF32);
  EXPECT_FALSE(ops::Linear(GpuCtx(), x, w, nullptr, y).ok());
}

TEST(CudaAllocator, CachesFreedBlocks) {
  PAGELLM_SKIP_WITHOUT_CUDA();
  const size_t before = GetCudaAllocatorStats(0).num_cuda_mallocs;
  for (int i = 0; i < 10; ++i) {
    auto t = Tensor::Empty(Shape{1 << 20}, DType::kF32, Device::Cuda(0));
    ASSERT_TRUE(t.ok());
  }
  EXPECT_LE(GetCudaAllocatorStats(0).num_cuda_mallocs - before, 1u);
}

INSTANTIATE_TEST_SUITE_P(AllFloat, CudaGemm,
                         ::testing::Values(DType::kF32, DType::kF16, DType::kBF16),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

}  // namespace
}  // namespace pagellm::cuda

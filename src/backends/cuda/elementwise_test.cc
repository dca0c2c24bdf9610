// CUDA pointwise, norm, rotary, copy and gather ops vs double-precision host references.
#include <cmath>

#include "backends/cuda/cuda_test_util.h"

namespace pagellm::cuda {
namespace {

using namespace pagellm::cuda::testing;  // NOLINT

double ActRef(ops::Activation act, double x) {
  switch (act) {
    case ops::Activation::kSilu:
      return x / (1 + std::exp(-x));
    case ops::Activation::kGeluTanh:
      return 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    case ops::Activation::kGeluExact:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case ops::Activation::kRelu:
      return x > 0 ? x : 0;
    case ops::Activation::kGeluQuick:
      return x / (1 + std::exp(-1.702 * x));
  }
  return 0;
}

std::vector<double> RoundTo(const std::vector<double>& v, DType dtype) {
  std::vector<float> f(v.begin(), v.end());
  Tensor t = Tensor::FromVector(f, Shape{static_cast<int64_t>(f.size())}, dtype);
  std::vector<float> r = t.ToFloatVector();
  return {r.begin(), r.end()};
}

class CudaElementwise : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override { PAGELLM_SKIP_WITHOUT_CUDA(); }
  std::mt19937 rng_{1234};
};

TEST_P(CudaElementwise, Activations) {
  const DType dt = GetParam();
  for (auto act : {ops::Activation::kSilu, ops::Activation::kGeluTanh, ops::Activation::kGeluExact,
                   ops::Activation::kRelu, ops::Activation::kGeluQuick}) {
    // 7 x 333: scalar path; 4 x 1024: 16-byte vector path.
    const Shape shape = act == ops::Activation::kSilu ? Shape{4, 1024} : Shape{7, 333};
    auto x = RandomValues(rng_, shape.numel(), dt, -4, 4);
    Tensor dx = ToDevice(x, shape, dt), out = Poisoned(shape, dt);
    ASSERT_TRUE(ops::Activate(GpuCtx(), act, dx, out).ok());
    std::vector<double> ref(x.size());
    for (size_t i = 0; i < x.size(); ++i) ref[i] = ActRef(act, x[i]);
    EXPECT_LE(RelError(ToHostFloats(out), ref), Tolerance(dt)) << static_cast<int>(act);
  }
}

TEST_P(CudaElementwise, GatedActivationOnStridedInput) {
  const DType dt = GetParam();
  const int64_t t = 5, inter = 296;
  // x is a column slice of a wider buffer: row stride 2I + 16.
  auto buf = RandomValues(rng_, t * (2 * inter + 16), dt, -3, 3);
  Tensor dbuf = ToDevice(buf, Shape{t, 2 * inter + 16}, dt);
  Tensor x = dbuf.Slice(1, 8, 8 + 2 * inter);
  Tensor out = Poisoned(Shape{t, inter}, dt);
  ASSERT_TRUE(ops::GatedActivation(GpuCtx(), ops::Activation::kSilu, x, out).ok());
  std::vector<double> ref;
  for (int64_t r = 0; r < t; ++r)
    for (int64_t c = 0; c < inter; ++c) {
      const double g = buf[r * (2 * inter + 16) + 8 + c],
                   u = buf[r * (2 * inter + 16) + 8 + inter + c];
      ref.push_back(ActRef(ops::Activation::kSilu, g) * u);
    }
  EXPECT_LE(RelError(ToHostFloats(out), ref), Tolerance(dt));
}

TEST_P(CudaElementwise, AddScaleSoftCap) {
  const DType dt = GetParam();
  for (const Shape& shape : {Shape{3, 1001}, Shape{4, 1024}}) {
    auto a = RandomValues(rng_, shape.numel(), dt, -5, 5),
         b = RandomValues(rng_, shape.numel(), dt);
    Tensor da = ToDevice(a, shape, dt), db = ToDevice(b, shape, dt), out = Poisoned(shape, dt);
    std::vector<double> ref(a.size());
    ASSERT_TRUE(ops::Add(GpuCtx(), da, db, out).ok());
    for (size_t i = 0; i < a.size(); ++i) ref[i] = double(a[i]) + b[i];
    EXPECT_LE(RelError(ToHostFloats(out), ref), Tolerance(dt));
    ASSERT_TRUE(ops::Scale(GpuCtx(), da, 0.37f, out).ok());
    for (size_t i = 0; i < a.size(); ++i) ref[i] = double(a[i]) * 0.37f;
    EXPECT_LE(RelError(ToHostFloats(out), ref), Tolerance(dt));
    ASSERT_TRUE(ops::SoftCap(GpuCtx(), da, 3.f).ok());  // in place
    for (size_t i = 0; i < a.size(); ++i) ref[i] = 3.0 * std::tanh(a[i] / 3.0);
    EXPECT_LE(RelError(ToHostFloats(da), ref), Tolerance(dt));
  }
}

TEST_P(CudaElementwise, RmsNormAndAddRmsNorm) {
  const DType dt = GetParam();
  const int64_t rows = 6, h = 1000;
  auto x = RandomValues(rng_, rows * h, dt, -2, 2), r = RandomValues(rng_, rows * h, dt, -2, 2);
  auto w = RandomValues(rng_, h, dt, 0.5f, 1.5f);
  Tensor dx = ToDevice(x, Shape{rows, h}, dt), dr = ToDevice(r, Shape{rows, h}, dt);
  Tensor dw = ToDevice(w, Shape{h}, dt), out = Poisoned(Shape{rows, h}, dt);
  for (float offset : {0.f, 1.f}) {
    ASSERT_TRUE(ops::RmsNorm(GpuCtx(), dx, dw, 1e-6f, offset, out).ok());
    std::vector<double> ref(x.size());
    for (int64_t i = 0; i < rows; ++i) {
      double ss = 0;
      for (int64_t c = 0; c < h; ++c) ss += double(x[i * h + c]) * x[i * h + c];
      const double inv = 1 / std::sqrt(ss / h + 1e-6);
      for (int64_t c = 0; c < h; ++c) ref[i * h + c] = x[i * h + c] * inv * (w[c] + offset);
    }
    EXPECT_LE(RelError(ToHostFloats(out), ref), Tolerance(dt)) << offset;
  }
  ASSERT_TRUE(ops::AddRmsNorm(GpuCtx(), dx, dr, dw, 1e-5f, 0.f, out).ok());
  std::vector<double> sum(x.size()), ref(x.size());
  for (size_t i = 0; i < x.size(); ++i) sum[i] = double(x[i]) + r[i];
  sum = RoundTo(sum, dt);
  for (int64_t i = 0; i < rows; ++i) {
    double ss = 0;
    for (int64_t c = 0; c < h; ++c) ss += sum[i * h + c] * sum[i * h + c];
    const double inv = 1 / std::sqrt(ss / h + 1e-5);
    for (int64_t c = 0; c < h; ++c) ref[i * h + c] = sum[i * h + c] * inv * w[c];
  }
  EXPECT_LE(RelError(ToHostFloats(dr), sum), Tolerance(dt));
  EXPECT_LE(RelError(ToHostFloats(out), ref), Tolerance(dt));
}

// A half-precision input normalised into a float32 output (Llama rounding to x's dtype first).
TEST_P(CudaElementwise, RmsNormIntoFloat32) {
  const DType dt = GetParam();
  const int64_t rows = 3, h = 520;
  auto x = RandomValues(rng_, rows * h, dt, -2, 2), w = RandomValues(rng_, h, dt, 0.5f, 1.5f);
  Tensor dx = ToDevice(x, Shape{rows, h}, dt), dw = ToDevice(w, Shape{h}, dt);
  Tensor out = Poisoned(Shape{rows, h}, DType::kF32);
  ASSERT_TRUE(ops::RmsNorm(GpuCtx(), dx, dw, 1e-6f, 0.f, out).ok());
  std::vector<double> normed(x.size()), ref(x.size());
  for (int64_t i = 0; i < rows; ++i) {
    double ss = 0;
    for (int64_t c = 0; c < h; ++c) ss += double(x[i * h + c]) * x[i * h + c];
    const double inv = 1 / std::sqrt(ss / h + 1e-6);
    for (int64_t c = 0; c < h; ++c) normed[i * h + c] = x[i * h + c] * inv;
  }
  normed = RoundTo(normed, dt);
  for (size_t i = 0; i < x.size(); ++i) ref[i] = normed[i] * w[i % h];
  // The intermediate rounding can flip by one ulp of dt where f32 and f64 disagree.
  EXPECT_LE(RelError(ToHostFloats(out), ref), Tolerance(dt));
}

TEST_P(CudaElementwise, LayerNorm) {
  const DType dt = GetParam();
  for (int64_t h : {777, 1024}) {  // scalar and vectorised kernels
    const int64_t rows = 4;
    auto x = RandomValues(rng_, rows * h, dt, -1, 3), w = RandomValues(rng_, h, dt),
         b = RandomValues(rng_, h, dt);
    Tensor dx = ToDevice(x, Shape{rows, h}, dt), dw = ToDevice(w, Shape{h}, dt),
           db = ToDevice(b, Shape{h}, dt), out = Poisoned(Shape{rows, h}, dt);
    for (bool with_bias : {false, true}) {
      ASSERT_TRUE(ops::LayerNorm(GpuCtx(), dx, dw, with_bias ? &db : nullptr, 1e-5f, out).ok());
      std::vector<double> ref(x.size());
      for (int64_t i = 0; i < rows; ++i) {
        double mean = 0, var = 0;
        for (int64_t c = 0; c < h; ++c) mean += x[i * h + c];
        mean /= h;
        for (int64_t c = 0; c < h; ++c) var += (x[i * h + c] - mean) * (x[i * h + c] - mean);
        const double inv = 1 / std::sqrt(var / h + 1e-5);
        for (int64_t c = 0; c < h; ++c)
          ref[i * h + c] = (x[i * h + c] - mean) * inv * w[c] + (with_bias ? b[c] : 0.0);
      }
      EXPECT_LE(RelError(ToHostFloats(out), ref), Tolerance(dt)) << h << " " << with_bias;
    }
  }
}

// q and k are head slices of one fused [T, Hq + 2 Hk, D] buffer, as after a QKV projection.
TEST_P(CudaElementwise, RotaryOnFusedQkv) {
  const DType dt = GetParam();
  const int64_t t = 9, hq = 4, hk = 2, d = 64, max_pos = 50;
  for (auto style : {ops::RopeStyle::kNeox, ops::RopeStyle::kGptj}) {
    for (int rot : {64, 32}) {
      auto qkv = RandomValues(rng_, t * (hq + 2 * hk) * d, dt);
      Tensor dqkv = ToDevice(qkv, Shape{t, hq + 2 * hk, d}, dt);
      Tensor q = dqkv.Slice(1, 0, hq), k = dqkv.Slice(1, hq, hq + hk);
      std::vector<float> cs(max_pos * rot);
      for (int64_t p = 0; p < max_pos; ++p)
        for (int j = 0; j < rot / 2; ++j) {
          const double ang = p * std::pow(10000.0, -2.0 * j / rot);
          cs[p * rot + j] = static_cast<float>(std::cos(ang));
          cs[p * rot + rot / 2 + j] = static_cast<float>(std::sin(ang));
        }
      std::vector<int32_t> pos(t);
      for (int64_t i = 0; i < t; ++i) pos[i] = static_cast<int32_t>((i * 7 + 3) % max_pos);
      Tensor dcs = ToDevice(cs, Shape{max_pos, rot}, DType::kF32), dpos = IntsToDevice(pos);
      ASSERT_TRUE(ops::ApplyRotary(GpuCtx(), dpos, dcs, rot, style, q, k).ok());
      std::vector<double> ref(qkv.begin(), qkv.end());
      for (int64_t i = 0; i < t; ++i)
        for (int64_t h = 0; h < hq + hk; ++h) {
          double* x = ref.data() + (i * (hq + 2 * hk) + h) * d;
          for (int j = 0; j < rot / 2; ++j) {
            const int i1 = style == ops::RopeStyle::kNeox ? j : 2 * j;
            const int i2 = style == ops::RopeStyle::kNeox ? j + rot / 2 : 2 * j + 1;
            const double c = cs[pos[i] * rot + j], s = cs[pos[i] * rot + rot / 2 + j];
            const double x1 = x[i1], x2 = x[i2];
            x[i1] = x1 * c - x2 * s;
            x[i2] = x2 * c + x1 * s;
          }
        }
      EXPECT_LE(RelError(ToHostFloats(dqkv), ref), Tolerance(dt)) << rot;
    }
  }
}

TEST_P(CudaElementwise, CopyConvertsAndHandlesStrides) {
  const DType dt = GetParam();
  std::vector<float> v(6 * 45);  // multiples of 1/64 in [-1, 1]: exact in every float type
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(static_cast<int>(rng_() % 129) - 64) / 64;
  Tensor host = Tensor::FromVector(v, Shape{6, 45}, DType::kF32);
  Tensor dev = Poisoned(Shape{6, 45}, dt);
  ASSERT_TRUE(ops::Copy(GpuCtx(), host, dev).ok());  // H2D with conversion
  std::vector<double> ref(v.begin(), v.end());
  EXPECT_EQ(RelError(ToHostFloats(dev), ref), 0.0);
  Tensor cols = dev.Slice(1, 5, 30);  // strided D2D
  Tensor dst = Poisoned(Shape{6, 25}, DType::kF32);
  ASSERT_TRUE(ops::Copy(GpuCtx(), cols, dst).ok());
  std::vector<double> ref2;
  for (int r = 0; r < 6; ++r)
    for (int c = 5; c < 30; ++c) ref2.push_back(v[r * 45 + c]);
  EXPECT_EQ(RelError(ToHostFloats(dst), ref2), 0.0);
  Tensor back = Tensor::EmptyHost(Shape{6, 25}, DType::kBF16);  // D2H strided + convert
  ASSERT_TRUE(ops::Copy(GpuCtx(), cols, back).ok());
  EXPECT_EQ(RelError(back.ToFloatVector(), ref2), 0.0);
}

TEST_P(CudaElementwise, GatherRowsAndEmbedding) {
  const DType dt = GetParam();
  const int64_t vocab = 37, h = 100;
  auto table = RandomValues(rng_, vocab * h, dt);
  Tensor dtable = ToDevice(table, Shape{vocab, h}, dt);
  std::vector<int32_t> ids = {3, 0, 36, 3, 17};
  Tensor dids = IntsToDevice(ids), out = Poisoned(Shape{5, h}, dt);
  ASSERT_TRUE(ops::Embedding(GpuCtx(), dids, dtable, out).ok());
  std::vector<double> ref;
  for (int32_t id : ids)
    for (int64_t c = 0; c < h; ++c) ref.push_back(table[id * h + c]);
  EXPECT_EQ(RelError(ToHostFloats(out), ref), 0.0);
  Tensor out2 = Poisoned(Shape{5, h}, dt);
  ASSERT_TRUE(ops::GatherRows(GpuCtx(), dtable, dids, out2).ok());
  EXPECT_EQ(RelError(ToHostFloats(out2), ref), 0.0);
}

TEST(CudaOpsValidation, RejectsHostTensorsAndMismatches) {
  PAGELLM_SKIP_WITHOUT_CUDA();
  Tensor host = Tensor::FromVector({1, 2, 3}, Shape{3});
  Tensor dev = ToDevice({1, 2, 3}, Shape{3}, DType::kF32);
  Tensor dev2 = ToDevice({1, 2}, Shape{2}, DType::kF32);
  EXPECT_FALSE(ops::Add(GpuCtx(), host, dev, dev).ok());
  EXPECT_FALSE(ops::Add(GpuCtx(), dev, dev2, dev).ok());
  EXPECT_FALSE(ops::SoftCap(GpuCtx(), dev, 0.f).ok());
}

// The engine sizes its KV cache from this (engine_setup.cc); freed blocks count as free.
TEST(CudaAllocator, MemoryInfoCountsCachedBlocksAsFree) {
  PAGELLM_SKIP_WITHOUT_CUDA();
  Allocator* alloc = GetAllocator(Device::Cuda(0));
  ASSERT_NE(alloc, nullptr);
  auto before = alloc->GetMemoryInfo();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_GT(before->total_bytes, 0u);
  EXPECT_LE(before->free_bytes, before->total_bytes);
  {
    auto t = Tensor::Empty(Shape{64 << 20}, DType::kF32, Device::Cuda(0));  // 256 MiB
    ASSERT_TRUE(t.ok());
    auto during = alloc->GetMemoryInfo();
    ASSERT_TRUE(during.ok());
    EXPECT_LT(during->free_bytes + (200u << 20), before->free_bytes + (1u << 20));
  }
  auto after = alloc->GetMemoryInfo();
  ASSERT_TRUE(after.ok());
  EXPECT_GE(after->free_bytes + (64u << 20), before->free_bytes);
}

INSTANTIATE_TEST_SUITE_P(AllFloat, CudaElementwise,
                         ::testing::Values(DType::kF32, DType::kF16, DType::kBF16),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

}  // namespace
}  // namespace pagellm::cuda

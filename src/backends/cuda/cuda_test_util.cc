#include "backends/cuda/cuda_test_util.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace pagellm::cuda::testing {

bool HasCudaDevice() {
  InitCudaBackend();
  return DeviceCount() > 0;
}

ExecCtx GpuCtx() {
  ExecCtx ctx;
  ctx.device = Device::Cuda(0);
  return ctx;
}

std::vector<float> RandomValues(std::mt19937& rng, int64_t n, DType dtype, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  if (dtype != DType::kF32) {
    Tensor t = Tensor::FromVector(v, Shape{n}, dtype);
    v = t.ToFloatVector();
  }
  return v;
}

Tensor ToDevice(const std::vector<float>& v, const Shape& shape, DType dtype) {
  Tensor host = Tensor::FromVector(v, shape, dtype);
  auto dev = Tensor::Empty(shape, dtype, Device::Cuda(0));
  CHECK(dev.ok()) << dev.status().ToString();
  Status st = ops::Copy(GpuCtx(), host, *dev);
  CHECK(st.ok()) << st.ToString();
  return *dev;
}

Tensor IntsToDevice(const std::vector<int32_t>& v) {
  Tensor host = Tensor::FromInts(v);
  auto dev = Tensor::Empty(host.shape(), DType::kI32, Device::Cuda(0));
  CHECK(dev.ok()) << dev.status().ToString();
  Status st = ops::Copy(GpuCtx(), host, *dev);
  CHECK(st.ok()) << st.ToString();
  return *dev;
}

Tensor Poisoned(const Shape& shape, DType dtype) {
  auto dev = Tensor::Empty(shape, dtype, Device::Cuda(0));
  CHECK(dev.ok()) << dev.status().ToString();
  Tensor host = Tensor::EmptyHost(shape, dtype);
  if (IsFloating(dtype)) {
    std::vector<float> nan(static_cast<size_t>(shape.numel()),
                           std::numeric_limits<float>::quiet_NaN());
    ConvertBuffer(nan.data(), DType::kF32, host.data(), dtype, nan.size());
  } else {
    std::memset(host.data(), 0x7f, host.nbytes());
  }
  Status st = ops::Copy(GpuCtx(), host, *dev);
  CHECK(st.ok()) << st.ToString();
  return *dev;
}

std::vector<float> ToHostFloats(const Tensor& t) {
  if (t.device().is_cpu()) return t.ToFloatVector();
  Tensor host = Tensor::EmptyHost(t.shape(), t.dtype());
  Status st = ops::Copy(GpuCtx(), t, host);
  CHECK(st.ok()) << st.ToString();
  if (t.dtype() == DType::kI32) {
    std::vector<float> out(static_cast<size_t>(t.numel()));
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(host.data<int32_t>()[i]);
    return out;
  }
  return host.ToFloatVector();
}

double RelError(const std::vector<float>& out, const std::vector<double>& ref) {
  if (out.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double num = 0, den = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) return std::numeric_limits<double>::infinity();
    const double d = out[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

double Tolerance(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 1e-5;
    case DType::kBF16:
      return 1e-2;
    default:
      return 2e-3;
  }
}

}  // namespace pagellm::cuda::testing

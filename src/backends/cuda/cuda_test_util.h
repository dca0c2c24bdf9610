// Helpers for the CUDA op tests: skip without a device, host<->device tensors, random inputs
// rounded to the tested dtype, poisoned outputs and relative-error checks.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backends/cuda/cuda_ops.h"
#include "ops/ops.h"
#include "tensor/tensor.h"

namespace pagellm::cuda::testing {

bool HasCudaDevice();
#define PAGELLM_SKIP_WITHOUT_CUDA()                                                   \
  do {                                                                                \
    if (!::pagellm::cuda::testing::HasCudaDevice()) GTEST_SKIP() << "no CUDA device"; \
  } while (0)

ExecCtx GpuCtx();

// Uniform values in [lo, hi) rounded to `dtype` (so a reference can use exactly what the
// kernel reads).
std::vector<float> RandomValues(std::mt19937& rng, int64_t n, DType dtype, float lo = -1.f,
                                float hi = 1.f);
// Host float values -> device tensor of `dtype`.
Tensor ToDevice(const std::vector<float>& v, const Shape& shape, DType dtype);
Tensor IntsToDevice(const std::vector<int32_t>& v);
// A device tensor filled with NaN (or 0x7f.. bytes for integers) to catch unwritten outputs.
Tensor Poisoned(const Shape& shape, DType dtype);
// Device (or host) tensor -> host floats; synchronises.
std::vector<float> ToHostFloats(const Tensor& t);

// ||out - ref|| / ||ref||; +inf if any output is NaN/inf.
double RelError(const std::vector<float>& out, const std::vector<double>& ref);
// Tolerances on RelError: f32 1e-5, bf16 1e-2, f16 2e-3.
double Tolerance(DType dtype);

inline const DType kFloatTypes[] = {DType::kF32, DType::kF16, DType::kBF16};

}  // namespace pagellm::cuda::testing

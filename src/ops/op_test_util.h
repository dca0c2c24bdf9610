// Test helpers for the op tests: random tensors in any float dtype, read-back as double, and a
// relative-error comparison. Header-only, test code only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace pagellm::testing {

inline std::vector<float> RandomVector(int64_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// A host tensor of `dtype` filled with uniform values (rounded to dtype).
inline Tensor RandomTensor(const Shape& shape, DType dtype, uint32_t seed, float lo = -1.f,
                           float hi = 1.f) {
  return Tensor::FromVector(RandomVector(shape.numel(), seed, lo, hi), shape, dtype);
}

// The tensor's values (as stored, i.e. after rounding) in double precision, row-major.
inline std::vector<double> ToDouble(const Tensor& t) {
  std::vector<float> f = t.ToFloatVector();
  return std::vector<double>(f.begin(), f.end());
}

// Max over i of |got - want| / (|want| + abs_floor), reported with the worst index.
inline void ExpectClose(const std::vector<double>& want, const Tensor& got_t, double rel_tol,
                        double abs_floor = 1e-3, const std::string& what = "") {
  std::vector<float> got = got_t.ToFloatVector();
  ASSERT_EQ(want.size(), got.size()) << what;
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double err = std::abs(got[i] - want[i]) / (std::abs(want[i]) + abs_floor);
    if (!(err <= worst)) {
      worst = err;
      worst_i = i;
    }
  }
  EXPECT_LE(worst, rel_tol) << what << " worst at " << worst_i << ": got " << got[worst_i]
                            << " want " << want[worst_i];
}

// Norm-based comparison for reductions whose low-precision kernels round intermediates (e.g.
// attention rounding the probabilities P to bf16 before the PV product, as FlashAttention does):
// a per-element relative bound is meaningless at outputs near zero, so this checks
// ||got - want||_2 / ||want||_2 <= norm_tol and, per element, max|got - want| / max|want| <= max_tol.
inline void ExpectCloseNorm(const std::vector<double>& want, const Tensor& got_t, double norm_tol,
                            double max_tol, const std::string& what = "") {
  std::vector<float> got = got_t.ToFloatVector();
  ASSERT_EQ(want.size(), got.size()) << what;
  double err2 = 0, want2 = 0, max_err = 0, max_want = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double e = std::abs(got[i] - want[i]);
    err2 += e * e;
    want2 += want[i] * want[i];
    max_want = std::max(max_want, std::abs(want[i]));
    if (!(e <= max_err)) {
      max_err = e;
      worst_i = i;
    }
  }
  EXPECT_LE(std::sqrt(err2), norm_tol * std::sqrt(want2)) << what << ": norm-relative error";
  EXPECT_LE(max_err, max_tol * max_want) << what << " worst at " << worst_i << ": got "
                                         << got[worst_i] << " want " << want[worst_i];
}

// Tolerance of ExpectCloseNorm's norm-relative error for results stored in dtype.
inline double NormTolFor(DType t) {
  switch (t) {
    case DType::kBF16:
      return 1e-2;
    case DType::kF16:
      return 2e-3;
    default:
      return 1e-5;
  }
}

// Relative tolerance for results stored in dtype (one rounding plus accumulated f32 error).
inline double TolFor(DType t) {
  switch (t) {
    case DType::kBF16:
      return 1.6e-2;
    case DType::kF16:
      return 2e-3;
    default:
      return 2e-5;
  }
}

}  // namespace pagellm::testing

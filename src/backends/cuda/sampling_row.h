// Per-row parameters of the GPU sampler (see sampling.h). Plain data, no dependencies, so the
// kernels (compiled as C++17 by nvcc) can include it.
#pragma once

#include <cstdint>

namespace pagellm::cuda {

struct GpuSamplingRow {
  float temperature = 1.f;  // < 1e-5: greedy (argmax, lowest id among equal maxima)
  int32_t top_k = 0;        // <= 0 or >= vocab: off
  float top_p = 1.f;        // >= 1: off
  float min_p = 0.f;        // <= 0: off
  double u = 0.0;           // uniform in [0, 1)
};

}  // namespace pagellm::cuda

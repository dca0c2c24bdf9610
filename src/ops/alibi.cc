#include "ops/alibi.h"

#include <algorithm>
#include <cmath>

namespace pagellm {

std::vector<float> AlibiSlopes(int num_heads) {
  std::vector<float> slopes;
  if (num_heads <= 0) return slopes;
  int p = 1;
  while (p * 2 <= num_heads) p *= 2;
  // torch: base tensor in float32, torch.pow(base, int powers) in float32.
  float base = static_cast<float>(std::pow(2.0, -std::pow(2.0, -(std::log2(p) - 3))));
  for (int i = 1; i <= p; ++i) slopes.push_back(static_cast<float>(std::pow(double{base}, i)));
  if (p != num_heads) {
    float extra = static_cast<float>(std::pow(2.0, -std::pow(2.0, -(std::log2(2 * p) - 3))));
    int remaining = std::min(p, num_heads - p);
    for (int i = 0; i < remaining; ++i)
      slopes.push_back(static_cast<float>(std::pow(double{extra}, 2 * i + 1)));
  }
  return slopes;
}

StatusOr<Tensor> AlibiSlopesTensor(int num_heads) {
  if (num_heads <= 0) return InvalidArgumentError("AlibiSlopes: num_heads must be > 0");
  return Tensor::FromVector(AlibiSlopes(num_heads), Shape{num_heads});
}

}  // namespace pagellm

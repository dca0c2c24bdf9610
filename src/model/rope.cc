#include "model/rope.h"

#include <cmath>
#include <numbers>

#include <fmt/format.h>

namespace pagellm {
namespace {

// Llama 3.1: keep high frequencies, divide low ones by `factor`, blend in between.
double Llama3Scale(double inv_freq, const RopeScaling& r) {
  const double old_len = static_cast<double>(r.original_max_position_embeddings);
  const double low_wavelen = old_len / r.low_freq_factor;
  const double high_wavelen = old_len / r.high_freq_factor;
  const double wavelen = 2 * std::numbers::pi / inv_freq;
  if (wavelen < high_wavelen) return inv_freq;
  if (wavelen > low_wavelen) return inv_freq / r.factor;
  const double smooth = (old_len / wavelen - r.low_freq_factor) /
                        (r.high_freq_factor - r.low_freq_factor);
  return (1 - smooth) * inv_freq / r.factor + smooth * inv_freq;
}

}  // namespace

StatusOr<Tensor> BuildRotaryTable(const DecoderSpec& spec, int64_t max_positions) {
  const int64_t rot = spec.rotary_dim(), half = rot / 2;
  const RopeScaling& r = spec.rope_scaling;
  std::vector<double> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i)
    inv[i] = 1.0 / std::pow(spec.rope_theta, static_cast<double>(2 * i) / static_cast<double>(rot));
  if (r.type == "linear") {
    for (double& f : inv) f /= r.factor;
  } else if (r.type == "llama3") {
    if (r.original_max_position_embeddings <= 0 || r.high_freq_factor <= r.low_freq_factor)
      return InvalidArgumentError("llama3 rope_scaling needs original_max_position_embeddings > 0 "
                                  "and high_freq_factor > low_freq_factor");
    for (double& f : inv) f = Llama3Scale(f, r);
  } else if (r.type != "none" && r.type != "default") {
    return UnimplementedError(fmt::format("rope_scaling type '{}' is not supported", r.type));
  }
  Tensor t = Tensor::EmptyHost(Shape{max_positions, rot}, DType::kF32);
  float* p = t.data<float>();
  for (int64_t pos = 0; pos < max_positions; ++pos) {
    for (int64_t i = 0; i < half; ++i) {
      // Angles in float, as HF computes them (inv_freq float32 times float positions).
      float angle = static_cast<float>(pos) * static_cast<float>(inv[i]);
      p[pos * rot + i] = std::cos(angle);
      p[pos * rot + half + i] = std::sin(angle);
    }
  }
  return t;
}

}  // namespace pagellm

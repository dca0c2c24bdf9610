#include "ops/rope_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace pagellm {
namespace {

constexpr double kPi = std::numbers::pi;

// torch: 1.0 / (base ** (arange(0, dim, 2).float() / dim)) in float32.
std::vector<float> PowFreqs(int dim, double base) {
  std::vector<float> pf(static_cast<size_t>(dim / 2));
  float b = static_cast<float>(base);
  for (int i = 0; i < dim / 2; ++i) {
    float e = static_cast<float>(2 * i) / static_cast<float>(dim);
    pf[i] = static_cast<float>(std::pow(static_cast<double>(b), static_cast<double>(e)));
  }
  return pf;
}

std::vector<float> DefaultInvFreq(int dim, double base) {
  std::vector<float> inv = PowFreqs(dim, base);
  for (float& v : inv) v = 1.f / v;
  return inv;
}

void Llama3(const RopeScalingParams& p, std::vector<float>& inv) {
  float factor = static_cast<float>(p.factor);
  double old_len = static_cast<double>(p.original_max_position_embeddings);
  float low_wl = static_cast<float>(old_len / p.low_freq_factor);
  float high_wl = static_cast<float>(old_len / p.high_freq_factor);
  float denom = static_cast<float>(p.high_freq_factor - p.low_freq_factor);
  for (float& f : inv) {
    float wavelen = static_cast<float>(2 * kPi) / f;
    float scaled = wavelen > low_wl ? f / factor : f;
    if (!(wavelen < high_wl) && !(wavelen > low_wl)) {
      float smooth =
          (static_cast<float>(old_len) / wavelen - static_cast<float>(p.low_freq_factor)) / denom;
      scaled = (1.f - smooth) * scaled / factor + smooth * scaled;
    }
    f = scaled;
  }
}

double YarnMscale(double scale, double mscale) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

RopeFrequencies Yarn(int dim, double base, const RopeScalingParams& p) {
  RopeFrequencies out;
  double orig = static_cast<double>(p.original_max_position_embeddings > 0
                                        ? p.original_max_position_embeddings
                                        : p.max_position_embeddings);
  double af = p.attention_factor;
  if (af == 0.0) {
    af = (p.mscale != 0.0 && p.mscale_all_dim != 0.0)
             ? YarnMscale(p.factor, p.mscale) / YarnMscale(p.factor, p.mscale_all_dim)
             : YarnMscale(p.factor, 1.0);
  }
  out.attention_factor = static_cast<float>(af);
  auto correction_dim = [&](double rotations) {
    return (dim * std::log(orig / (rotations * 2 * kPi))) / (2 * std::log(base));
  };
  double low = correction_dim(p.beta_fast), high = correction_dim(p.beta_slow);
  if (p.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;
  std::vector<float> pf = PowFreqs(dim, base);
  float factor = static_cast<float>(p.factor);
  out.inv_freq.resize(pf.size());
  for (size_t i = 0; i < pf.size(); ++i) {
    float ramp = (static_cast<float>(i) - static_cast<float>(low)) / static_cast<float>(high - low);
    ramp = std::clamp(ramp, 0.f, 1.f);
    float extra_factor = 1.f - ramp;
    float extrapolation = 1.f / pf[i], interpolation = 1.f / (factor * pf[i]);
    out.inv_freq[i] = interpolation * (1.f - extra_factor) + extrapolation * extra_factor;
  }
  return out;
}

StatusOr<RopeFrequencies> LongRope(int dim, double base, const RopeScalingParams& p) {
  RopeFrequencies out;
  double factor = p.factor;
  double orig = static_cast<double>(p.max_position_embeddings);
  if (p.original_max_position_embeddings > 0) {
    orig = static_cast<double>(p.original_max_position_embeddings);
    factor = static_cast<double>(p.max_position_embeddings) / orig;
  }
  double af = p.attention_factor;
  if (af == 0.0) af = factor <= 1.0 ? 1.0 : std::sqrt(1 + std::log(factor) / std::log(orig));
  out.attention_factor = static_cast<float>(af);
  const std::vector<double>& ext =
      (p.seq_len > 0 && p.seq_len > orig) ? p.long_factor : p.short_factor;
  if (ext.size() != static_cast<size_t>(dim / 2))
    return InvalidArgumentError(
        fmt::format("longrope: short/long_factor must have rot_dim/2 = {} entries, got {}", dim / 2,
                    ext.size()));
  std::vector<float> pf = PowFreqs(dim, base);
  out.inv_freq.resize(pf.size());
  for (size_t i = 0; i < pf.size(); ++i)
    out.inv_freq[i] = 1.f / (static_cast<float>(ext[i]) * pf[i]);
  return out;
}

}  // namespace

StatusOr<RopeFrequencies> ComputeRopeFrequencies(int dim, double theta,
                                                 const RopeScalingParams& p) {
  if (dim <= 0 || dim % 2 != 0 || !(theta > 0))
    return InvalidArgumentError(
        fmt::format("rope: rot_dim {} must be even and > 0, theta {} > 0", dim, theta));
  const std::string& t = p.type;
  bool needs_factor = t == "linear" || t == "dynamic" || t == "yarn" || t == "llama3";
  if (needs_factor && !(p.factor > 0))
    return InvalidArgumentError(fmt::format("rope_scaling {}: factor must be > 0", t));
  RopeFrequencies out;
  if (t.empty() || t == "default" || t == "none") {
    out.inv_freq = DefaultInvFreq(dim, theta);
  } else if (t == "linear") {
    out.inv_freq = DefaultInvFreq(dim, theta);
    for (float& f : out.inv_freq) f /= static_cast<float>(p.factor);
  } else if (t == "dynamic") {
    if (p.max_position_embeddings <= 0)
      return InvalidArgumentError("rope_scaling dynamic: max_position_embeddings must be set");
    double max_pos = static_cast<double>(p.max_position_embeddings);
    double seq = std::max<double>(static_cast<double>(p.seq_len), max_pos);
    double base = theta * std::pow(p.factor * seq / max_pos - (p.factor - 1),
                                   static_cast<double>(dim) / (dim - 2));
    out.inv_freq = DefaultInvFreq(dim, base);
  } else if (t == "llama3") {
    if (p.original_max_position_embeddings <= 0 || p.high_freq_factor == p.low_freq_factor)
      return InvalidArgumentError(
          "rope_scaling llama3: needs original_max_position_embeddings "
          "and high_freq_factor != low_freq_factor");
    out.inv_freq = DefaultInvFreq(dim, theta);
    Llama3(p, out.inv_freq);
  } else if (t == "yarn") {
    if (p.original_max_position_embeddings <= 0 && p.max_position_embeddings <= 0)
      return InvalidArgumentError("rope_scaling yarn: needs (original_)max_position_embeddings");
    out = Yarn(dim, theta, p);
  } else if (t == "longrope") {
    if (p.max_position_embeddings <= 0)
      return InvalidArgumentError("rope_scaling longrope: max_position_embeddings must be set");
    return LongRope(dim, theta, p);
  } else {
    return InvalidArgumentError(fmt::format("unsupported rope_scaling type '{}'", t));
  }
  return out;
}

StatusOr<Tensor> BuildRopeCosSin(int rot_dim, int max_positions, double theta,
                                 const RopeScalingParams& params) {
  if (max_positions <= 0)
    return InvalidArgumentError(fmt::format("rope: max_positions {} must be > 0", max_positions));
  ASSIGN_OR_RETURN(RopeFrequencies f, ComputeRopeFrequencies(rot_dim, theta, params));
  int half = rot_dim / 2;
  ASSIGN_OR_RETURN(Tensor table, Tensor::Empty(Shape{max_positions, rot_dim}, DType::kF32));
  float* d = table.data<float>();
  for (int p = 0; p < max_positions; ++p) {
    for (int i = 0; i < half; ++i) {
      double arg = static_cast<double>(static_cast<float>(p) * f.inv_freq[i]);
      d[static_cast<int64_t>(p) * rot_dim + i] =
          static_cast<float>(std::cos(arg)) * f.attention_factor;
      d[static_cast<int64_t>(p) * rot_dim + half + i] =
          static_cast<float>(std::sin(arg)) * f.attention_factor;
    }
  }
  return table;
}

}  // namespace pagellm

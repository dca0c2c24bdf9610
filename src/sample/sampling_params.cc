#include "sample/sampling_params.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "base/logging.h"

namespace pagellm {

std::string PyFloat(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

namespace {

// Python's repr of a list of ints: "[1, 2]".
std::string IntList(const std::vector<int32_t>& ids) {
  return fmt::format("[{}]", fmt::join(ids, ", "));
}

Status VerifyNumSequences(int value, const char* name) {
  if (value < 1) return InvalidArgumentError(fmt::format("{} must be at least 1, got {}.", name, value));
  return OkStatus();
}

Status ValidatePenaltiesAndTemperature(const SamplingParams& p) {
  if (!(p.presence_penalty >= -2.0 && p.presence_penalty <= 2.0))
    return InvalidArgumentError(
        fmt::format("presence_penalty must be in [-2, 2], got {}.", PyFloat(p.presence_penalty)));
  if (!(p.frequency_penalty >= -2.0 && p.frequency_penalty <= 2.0))
    return InvalidArgumentError(
        fmt::format("frequency_penalty must be in [-2, 2], got {}.", PyFloat(p.frequency_penalty)));
  if (!std::isfinite(p.repetition_penalty))
    return InvalidArgumentError(fmt::format("repetition_penalty must be a finite number, got {}.",
                                            PyFloat(p.repetition_penalty)));
  if (p.repetition_penalty <= 0.0)
    return InvalidArgumentError(fmt::format("repetition_penalty must be greater than zero, got {}.",
                                            PyFloat(p.repetition_penalty)));
  if (!std::isfinite(p.temperature))
    return InvalidArgumentError(
        fmt::format("temperature must be a finite number, got {}.", PyFloat(p.temperature)));
  if (p.temperature < 0.0)
    return InvalidArgumentError(
        fmt::format("temperature must be non-negative, got {}.", PyFloat(p.temperature)));
  if (p.temperature > 2.0)
    return InvalidArgumentError(
        fmt::format("temperature must be in [0, 2], got {}.", PyFloat(p.temperature)));
  return OkStatus();
}

Status ValidateFilters(const SamplingParams& p) {
  if (!(p.top_p > 0.0 && p.top_p <= 1.0))
    return InvalidArgumentError(fmt::format("top_p must be in (0, 1], got {}.", PyFloat(p.top_p)));
  if (p.top_k < -1)
    return InvalidArgumentError(
        fmt::format("top_k must be 0 (disable), or at least 1, got {}.", p.top_k));
  if (!(p.min_p >= 0.0 && p.min_p <= 1.0))
    return InvalidArgumentError(fmt::format("min_p must be in [0, 1], got {}.", PyFloat(p.min_p)));
  return OkStatus();
}

Status ValidateLengths(const SamplingParams& p) {
  if (p.max_tokens && *p.max_tokens < 1)
    return InvalidArgumentError(fmt::format("max_tokens must be at least 1, got {}.", *p.max_tokens));
  if (p.min_tokens < 0)
    return InvalidArgumentError(
        fmt::format("min_tokens must be greater than or equal to 0, got {}.", p.min_tokens));
  if (p.max_tokens && p.min_tokens > *p.max_tokens)
    return InvalidArgumentError(fmt::format(
        "min_tokens must be less than or equal to max_tokens={}, got {}.", *p.max_tokens,
        p.min_tokens));
  if (p.logprobs && *p.logprobs != -1 && *p.logprobs < 0)
    return InvalidArgumentError(
        fmt::format("logprobs must be non-negative or -1, got {}.", *p.logprobs));
  if (p.prompt_logprobs && *p.prompt_logprobs != -1 && *p.prompt_logprobs < 0)
    return InvalidArgumentError(
        fmt::format("prompt_logprobs must be non-negative or -1, got {}.", *p.prompt_logprobs));
  if (p.truncate_prompt_tokens && *p.truncate_prompt_tokens != -1 && *p.truncate_prompt_tokens < 1)
    return InvalidArgumentError(fmt::format("truncate_prompt_tokens must be >= 1 or -1, got {}",
                                            *p.truncate_prompt_tokens));
  return OkStatus();
}

Status ValidateStops(const SamplingParams& p) {
  for (const auto& s : p.stop)
    if (s.empty()) return InvalidArgumentError("stop cannot contain an empty string.");
  if (!p.stop.empty() && !p.detokenize)
    return InvalidArgumentError(
        "stop strings are only supported when detokenize is True. Set detokenize=True to use stop.");
  for (const auto& w : p.bad_words)
    if (w.empty())
      return InvalidArgumentError("bad_words cannot contain an empty string.");
  if (p.allowed_token_ids && p.allowed_token_ids->empty())
    return InvalidArgumentError("allowed_token_ids is not None and empty!");
  return OkStatus();
}

}  // namespace

Status SamplingParams::Validate() const {
  RETURN_IF_ERROR(VerifyNumSequences(n, "n"));
  if (best_of) {
    if (*best_of < n)
      return InvalidArgumentError(fmt::format(
          "best_of must be greater than or equal to n, got n={} and best_of={}.", n, *best_of));
    if (*best_of > n)
      return UnimplementedError(
          "best_of > n is not supported (as in vLLM V1): request n sequences instead.");
  }
  RETURN_IF_ERROR(ValidatePenaltiesAndTemperature(*this));
  RETURN_IF_ERROR(ValidateFilters(*this));
  RETURN_IF_ERROR(ValidateLengths(*this));
  RETURN_IF_ERROR(ValidateStops(*this));
  if (is_greedy() && n > 1)
    return InvalidArgumentError(fmt::format("n must be 1 when using greedy sampling, got {}.", n));
  return OkStatus();
}

Status SamplingParams::Finalize() {
  if (temperature > 0.0 && temperature < kMinPositiveTemperature) {
    LOG_WARN("temperature {} is less than {}, which may cause numerical errors nan or inf in "
             "tensors. We have maxed it out to {}.",
             temperature, kMinPositiveTemperature, kMinPositiveTemperature);
    temperature = kMinPositiveTemperature;
  }
  if (seed && *seed == -1) seed.reset();
  std::vector<int32_t> unique_stop;
  std::set<int32_t> seen;
  for (int32_t id : stop_token_ids)
    if (seen.insert(id).second) unique_stop.push_back(id);
  stop_token_ids = std::move(unique_stop);
  for (auto& [id, bias] : logit_bias) bias = std::clamp(bias, -kMaxLogitBias, kMaxLogitBias);
  RETURN_IF_ERROR(Validate());
  if (is_greedy()) {
    top_p = 1.0;
    top_k = 0;
    min_p = 0.0;
  }
  return OkStatus();
}

Status SamplingParams::VerifyTokenIds(int64_t vocab_size) const {
  auto bad = [&](int64_t id) { return id < 0 || id >= vocab_size; };
  std::vector<int32_t> invalid;
  for (int32_t id : stop_token_ids)
    if (bad(id)) invalid.push_back(id);
  if (!invalid.empty())
    return InvalidArgumentError(fmt::format(
        "token_id(s) {} in stop_token_ids contain out-of-vocab token ids. Vocabulary size: {}",
        IntList(invalid), vocab_size));
  for (const auto& [id, bias] : logit_bias)
    if (bad(id)) invalid.push_back(id);
  if (!invalid.empty())
    return InvalidArgumentError(fmt::format(
        "token_id(s) {} in logit_bias contain out-of-vocab token ids. Vocabulary size: {}",
        IntList(invalid), vocab_size));
  if (allowed_token_ids)
    for (int32_t id : *allowed_token_ids)
      if (bad(id)) return InvalidArgumentError("allowed_token_ids contains out-of-vocab token id!");
  for (const auto& word : bad_words_token_ids)
    for (int32_t id : word)
      if (bad(id)) invalid.push_back(id);
  if (!invalid.empty())
    return InvalidArgumentError(fmt::format(
        "The model vocabulary size is {}, but the following tokens were specified as bad: {}. All "
        "token id values should be integers satisfying: 0 <= token_id <= {}.",
        vocab_size, IntList(invalid), vocab_size - 1));
  return OkStatus();
}

Status SamplingParams::VerifyLogprobs(int64_t max_logprobs, int64_t vocab_size) const {
  if (max_logprobs == -1) max_logprobs = vocab_size;
  if (logprobs && *logprobs != 0) {
    int64_t k = *logprobs == -1 ? vocab_size : *logprobs;
    if (k > max_logprobs)
      return InvalidArgumentError(fmt::format(
          "Requested sample logprobs of {}, which is greater than max allowed: {}", k,
          max_logprobs));
  }
  if (prompt_logprobs && *prompt_logprobs != 0) {
    int64_t k = *prompt_logprobs == -1 ? vocab_size : *prompt_logprobs;
    if (k > max_logprobs)
      return InvalidArgumentError(fmt::format(
          "Requested prompt logprobs of {}, which is greater than max allowed: {}", k,
          max_logprobs));
  }
  return OkStatus();
}

Status BeamSearchParams::Validate() const {
  RETURN_IF_ERROR(VerifyNumSequences(beam_width, "beam_width"));
  if (max_tokens < 1)
    return InvalidArgumentError(fmt::format("max_tokens must be at least 1, got {}.", max_tokens));
  if (!std::isfinite(temperature) || temperature < 0.0)
    return InvalidArgumentError(
        fmt::format("temperature must be non-negative, got {}.", PyFloat(temperature)));
  if (!std::isfinite(length_penalty))
    return InvalidArgumentError(
        fmt::format("length_penalty must be a finite number, got {}.", PyFloat(length_penalty)));
  return OkStatus();
}

}  // namespace pagellm

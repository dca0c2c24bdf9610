// SamplingParams / BeamSearchParams: vLLM's per-request generation parameters (field names,
// defaults and validation messages follow vllm/sampling_params.py).
// Usage: fill the fields, then `Finalize()` once (normalizes like vLLM's __post_init__ and
// validates); the engine additionally calls `VerifyTokenIds(vocab_size)` and fills
// `bad_words_token_ids` from `bad_words` with its tokenizer.
// Thread-safety: value type.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace pagellm {

// Below this temperature a request is greedy (vLLM's _SAMPLING_EPS).
inline constexpr double kSamplingEps = 1e-5;
// Positive temperatures below this are raised to it (vLLM's _MAX_TEMP; avoids inf/nan).
inline constexpr double kMinPositiveTemperature = 1e-2;
// |logit_bias| is clamped to this (OpenAI / vLLM).
inline constexpr double kMaxLogitBias = 100.0;

enum class RequestOutputKind {
  kCumulative,  // every output carries everything generated so far
  kDelta,       // only what is new since the last output
  kFinalOnly,   // one output when the request finishes
};

struct SamplingParams {
  int n = 1;
  std::optional<int> best_of;  // vLLM V1 supports only best_of == n (or unset)
  double presence_penalty = 0.0;
  double frequency_penalty = 0.0;
  double repetition_penalty = 1.0;
  double temperature = 1.0;  // 0 = greedy
  double top_p = 1.0;
  int top_k = 0;  // 0 or -1 = off
  double min_p = 0.0;
  std::optional<int64_t> seed;  // -1 = none
  std::vector<std::string> stop;
  std::vector<int32_t> stop_token_ids;
  bool include_stop_str_in_output = false;
  bool ignore_eos = false;
  std::optional<int> max_tokens = 16;  // nullopt = up to the context length
  int min_tokens = 0;
  std::optional<int> logprobs;         // -1 = whole vocabulary
  std::optional<int> prompt_logprobs;  // -1 = whole vocabulary
  std::map<int32_t, double> logit_bias;
  std::optional<std::vector<int32_t>> allowed_token_ids;
  std::vector<std::string> bad_words;
  bool detokenize = true;
  bool skip_special_tokens = true;
  bool spaces_between_special_tokens = true;
  std::optional<int> truncate_prompt_tokens;  // -1 = max_model_len
  RequestOutputKind output_kind = RequestOutputKind::kCumulative;

  // Filled by the engine from `bad_words` with its tokenizer (vLLM's _bad_words_token_ids).
  std::vector<std::vector<int32_t>> bad_words_token_ids;

  // Normalizes like vLLM's __post_init__ (seed -1 → none, tiny temperature raised, logit_bias
  // clamped to ±100, stop_token_ids deduplicated; greedy turns top_p/top_k/min_p off), then
  // validates. Returns InvalidArgument (or Unimplemented) with vLLM's messages.
  Status Finalize();
  // Checks the value ranges without changing anything.
  Status Validate() const;
  // Token ids used as logits columns must be in [0, vocab_size).
  Status VerifyTokenIds(int64_t vocab_size) const;
  // Checks logprobs/prompt_logprobs against the engine's limit (-1 = vocab_size).
  Status VerifyLogprobs(int64_t max_logprobs, int64_t vocab_size) const;

  bool is_greedy() const { return temperature < kSamplingEps; }
  bool top_k_enabled() const { return top_k > 0; }
};

struct BeamSearchParams {
  int beam_width = 1;
  int max_tokens = 16;
  bool ignore_eos = false;
  double temperature = 0.0;
  double length_penalty = 1.0;
  bool include_stop_str_in_output = false;

  Status Validate() const;
};

// Formats a double the way Python's repr does for the values we print ("1.0", "1.5", "-1.0").
std::string PyFloat(double v);

}  // namespace pagellm

// RequestOutput / CompletionOutput: what the engine returns, with vLLM's field names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sample/logprobs.h"
#include "sched/request.h"

namespace pagellm {

struct CompletionOutput {
  int index = 0;
  std::string text;                // cumulative, or the delta for RequestOutputKind::kDelta
  std::vector<int32_t> token_ids;  // likewise
  std::optional<double> cumulative_logprob;  // set when logprobs were requested
  std::optional<std::vector<TokenLogprobs>> logprobs;
  std::optional<std::string> finish_reason;  // "stop", "length", "abort"
  StopReason stop_reason;                    // stop token id, stop string, or none

  bool finished() const { return finish_reason.has_value(); }
};

struct RequestOutput {
  std::string request_id;
  std::optional<std::string> prompt;  // the text prompt, when one was given
  std::vector<int32_t> prompt_token_ids;
  // vLLM's shape: one entry per prompt token, the first always empty (None).
  std::optional<std::vector<std::optional<TokenLogprobs>>> prompt_logprobs;
  std::vector<CompletionOutput> outputs;
  bool finished = false;
  int32_t num_cached_tokens = 0;
  std::optional<std::string> error;  // set when the engine failed this request
};

}  // namespace pagellm

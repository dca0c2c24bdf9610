// Log-probabilities returned for one generated (or prompt) position, OpenAI style: the sampled
// token plus the top-k alternatives, computed from the raw model logits (vLLM's default
// logprobs_mode "raw_logprobs").
#pragma once

#include <cstdint>
#include <vector>

namespace pagellm {

struct TokenLogprobs {
  // token_ids[0] / logprobs[0] are the sampled token; then the top-k in descending order
  // (the sampled token may appear again among them, as in vLLM).
  std::vector<int32_t> token_ids;
  std::vector<float> logprobs;
  int32_t sampled_rank = 0;  // 1-based rank of the sampled token in the whole vocabulary
};

}  // namespace pagellm

// The CPU logits processors, one function per step of vLLM V1's sampler pipeline, on one row of
// float logits (the vocabulary). Masked tokens get -inf. Each is a no-op when its parameter is
// off. Sampler (sampler.h) runs them in vLLM's order:
//   allowed_token_ids → bad_words → min_tokens → logit_bias → penalties (repetition,
//   frequency, presence) → [greedy argmax] → temperature → min_p → top_k → top_p → sample.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sample/logprobs.h"
#include "sample/sampling_params.h"

namespace pagellm {

// Keeps only allowed_token_ids.
void ApplyAllowedTokenIds(std::span<float> logits, const std::vector<int32_t>& allowed);
// For each bad word (token sequence), bans its last token when the output ends with the rest.
void ApplyBadWords(std::span<float> logits, const std::vector<std::vector<int32_t>>& bad_words,
                   std::span<const int32_t> output_token_ids);
// Until min_tokens outputs exist, bans EOS and the stop_token_ids.
void ApplyMinTokens(std::span<float> logits, const SamplingParams& p, int32_t num_output_tokens,
                    std::optional<int32_t> eos_token_id);
void ApplyLogitBias(std::span<float> logits, const SamplingParams& p);
// repetition_penalty over prompt + output tokens (divide positive logits, multiply negative
// ones); frequency_penalty × count and presence_penalty over output tokens.
void ApplyPenalties(std::span<float> logits, const SamplingParams& p,
                    std::span<const int32_t> prompt_token_ids,
                    std::span<const int32_t> output_token_ids);
void ApplyTemperature(std::span<float> logits, double temperature);
// Bans tokens whose probability is below min_p × the top probability.
void ApplyMinP(std::span<float> logits, double min_p);
// Keeps the top_k largest logits (ties at the boundary kept). top_k <= 0: off.
void ApplyTopK(std::span<float> logits, int top_k);
// Keeps the smallest set of most likely tokens whose probability sum reaches top_p.
void ApplyTopP(std::span<float> logits, double top_p);

// First index of the largest logit (torch.argmax).
int32_t Argmax(std::span<const float> logits);
// Inverse-CDF draw over softmax(logits) in token-id order with u in [0, 1).
int32_t SampleFromLogits(std::span<const float> logits, double u);
// log_softmax of a row.
std::vector<float> LogSoftmax(std::span<const float> logits);
// The sampled token's logprob and rank plus the num_top best (-1: whole vocabulary), from
// logprobs (a LogSoftmax row).
TokenLogprobs GatherLogprobs(std::span<const float> logprobs, int32_t token, int num_top);

}  // namespace pagellm

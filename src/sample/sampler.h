// Sampler: turns a batch of logits rows into sampled token ids (+ logprobs) on the CPU, with
// vLLM V1's processors and order (logits_processors.h). Tensor-free: rows are float spans.
//
// Reproducibility: a request with a seed draws its random number from a counter-based
// generator keyed by (seed, number of output tokens so far), so its tokens do not depend on
// which other requests share the batch, on the batch order, or on preemption. Requests without
// a seed draw from the sampler's own generator.
// Logprobs are computed from the RAW logits (vLLM's default logprobs_mode "raw_logprobs").
// Thread-safety: Sample() mutates the unseeded generator; one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sample/logprobs.h"
#include "sample/sampling_params.h"

namespace pagellm {

// What the sampler needs to know about one request at this step.
struct SamplingState {
  const SamplingParams* params = nullptr;
  std::span<const int32_t> prompt_token_ids;
  std::span<const int32_t> output_token_ids;  // generated so far (penalties, bad words, RNG step)
  std::optional<int32_t> eos_token_id;        // banned until min_tokens
  // Async scheduling: tokens sampled before this one that the host does not know yet. They
  // count as output tokens for the RNG step and min_tokens (only the device path sets it).
  int32_t num_pending_outputs = 0;
};

struct SamplerOutput {
  std::vector<int32_t> sampled_token_ids;
  // Per row: set when params->logprobs is set (top params->logprobs + the sampled token).
  std::vector<std::optional<TokenLogprobs>> logprobs;
};

// Uniform double in [0, 1) from (seed, step): splitmix64 over the pair. Stateless.
double CounterUniform(uint64_t seed, uint64_t step);
// The uniform draw of one sampled row: CounterUniform(seed, num_output_tokens) for a seeded
// request, else the next value of the generator `*unseeded_state` (advanced).
double DrawUniform(const SamplingParams& p, size_t num_output_tokens, uint64_t* unseeded_state);

class Sampler {
 public:
  explicit Sampler(uint64_t unseeded_seed = 0x5eed);

  // REQUIRES: logits.size() == states.size(); every row spans the whole vocabulary.
  // Rows are overwritten with the processed logits.
  SamplerOutput Sample(std::span<const std::span<float>> logits,
                       std::span<const SamplingState> states);

  // One row (what Sample() does per row).
  int32_t SampleRow(std::span<float> logits, const SamplingState& state,
                    std::optional<TokenLogprobs>* logprobs);

 private:
  uint64_t unseeded_state_;
};

}  // namespace pagellm

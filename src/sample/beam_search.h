// Beam search bookkeeping with the semantics of vLLM's LLM.beam_search, as pure functions the
// engine drives: each step it runs the model once per live beam and passes each beam's
// next-token logprobs (raw: LogSoftmax of the logits).
//   * every beam is expanded by its 2 * beam_width most likely tokens;
//   * a candidate ending in EOS (unless ignore_eos) is moved to `completed`;
//   * the best beam_width other candidates by score become the next beams;
//   * after max_tokens steps, completed + live beams are sorted by score; the best beam_width
//     are the result.
// score = cum_logprob / seq_len ^ length_penalty, seq_len counting the prompt tokens and not a
// final EOS (vLLM's get_beam_search_score).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sample/logprobs.h"
#include "sample/sampling_params.h"

namespace pagellm {

struct BeamSearchSequence {
  std::vector<int32_t> tokens;  // prompt + generated
  std::vector<float> logprobs;  // one per generated token
  double cum_logprob = 0.0;
  bool finished = false;        // ended with EOS
  // Index in the previous step's beams this one extends (the engine forks its KV from it).
  int32_t parent_beam = -1;
};

double BeamSearchScore(std::span<const int32_t> tokens, double cum_logprob,
                       std::optional<int32_t> eos_token_id, double length_penalty);

struct BeamSearchInstance {
  explicit BeamSearchInstance(std::vector<int32_t> prompt_token_ids);
  std::vector<BeamSearchSequence> beams;      // live (starts as the prompt alone)
  std::vector<BeamSearchSequence> completed;  // ended with EOS
};

// One step from full logprob rows, one per live beam (in inst.beams order).
void BeamSearchStep(BeamSearchInstance& inst, std::span<const std::span<const float>> logprob_rows,
                    const BeamSearchParams& params, std::optional<int32_t> eos_token_id);
// The same from per-beam candidate lists (token_ids/logprobs pairs in descending order); only
// the first 2 * beam_width candidates of each are used. From a Sampler's TokenLogprobs (asked
// for logprobs = 2 * beam_width), pass TopCandidates(lp): it drops the sampled-token entry.
void BeamSearchStepFromCandidates(BeamSearchInstance& inst,
                                  std::span<const TokenLogprobs> candidates,
                                  const BeamSearchParams& params,
                                  std::optional<int32_t> eos_token_id);
TokenLogprobs TopCandidates(const TokenLogprobs& sampler_logprobs);
// The final ranking: the best beam_width of completed + live beams, best first.
std::vector<BeamSearchSequence> BeamSearchFinalize(const BeamSearchInstance& inst,
                                                   const BeamSearchParams& params,
                                                   std::optional<int32_t> eos_token_id);

}  // namespace pagellm

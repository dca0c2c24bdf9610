#include "sample/beam_search.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "sample/logits_processors.h"

namespace pagellm {

double BeamSearchScore(std::span<const int32_t> tokens, double cum_logprob,
                       std::optional<int32_t> eos_token_id, double length_penalty) {
  double seq_len = static_cast<double>(tokens.size());
  if (eos_token_id && !tokens.empty() && tokens.back() == *eos_token_id) seq_len -= 1;
  return cum_logprob / std::pow(seq_len, length_penalty);
}

BeamSearchInstance::BeamSearchInstance(std::vector<int32_t> prompt_token_ids) {
  BeamSearchSequence root;
  root.tokens = std::move(prompt_token_ids);
  beams.push_back(std::move(root));
}

namespace {

void SortByScore(std::vector<BeamSearchSequence>& seqs, std::optional<int32_t> eos,
                 double length_penalty) {
  std::stable_sort(seqs.begin(), seqs.end(), [&](const auto& a, const auto& b) {
    return BeamSearchScore(a.tokens, a.cum_logprob, eos, length_penalty) >
           BeamSearchScore(b.tokens, b.cum_logprob, eos, length_penalty);
  });
}

}  // namespace

void BeamSearchStepFromCandidates(BeamSearchInstance& inst,
                                  std::span<const TokenLogprobs> candidates,
                                  const BeamSearchParams& params,
                                  std::optional<int32_t> eos_token_id) {
  CHECK_EQ(candidates.size(), inst.beams.size());
  const size_t width = static_cast<size_t>(2 * params.beam_width);
  std::vector<BeamSearchSequence> next;
  for (size_t b = 0; b < inst.beams.size(); ++b) {
    const BeamSearchSequence& beam = inst.beams[b];
    const TokenLogprobs& c = candidates[b];
    for (size_t k = 0; k < std::min(width, c.token_ids.size()); ++k) {
      BeamSearchSequence s;
      s.tokens = beam.tokens;
      s.tokens.push_back(c.token_ids[k]);
      s.logprobs = beam.logprobs;
      s.logprobs.push_back(c.logprobs[k]);
      s.cum_logprob = beam.cum_logprob + c.logprobs[k];
      s.parent_beam = static_cast<int32_t>(b);
      if (!params.ignore_eos && eos_token_id && c.token_ids[k] == *eos_token_id) {
        s.finished = true;
        inst.completed.push_back(std::move(s));
      } else {
        next.push_back(std::move(s));
      }
    }
  }
  SortByScore(next, eos_token_id, params.length_penalty);
  if (next.size() > size_t(params.beam_width)) next.resize(params.beam_width);
  inst.beams = std::move(next);
}

void BeamSearchStep(BeamSearchInstance& inst, std::span<const std::span<const float>> logprob_rows,
                    const BeamSearchParams& params, std::optional<int32_t> eos_token_id) {
  CHECK_EQ(logprob_rows.size(), inst.beams.size());
  std::vector<TokenLogprobs> candidates;
  for (const auto& row : logprob_rows) {
    candidates.push_back(TopCandidates(GatherLogprobs(row, 0, 2 * params.beam_width)));
  }
  BeamSearchStepFromCandidates(inst, candidates, params, eos_token_id);
}

TokenLogprobs TopCandidates(const TokenLogprobs& sampler_logprobs) {
  TokenLogprobs top = sampler_logprobs;
  if (!top.token_ids.empty()) {
    top.token_ids.erase(top.token_ids.begin());
    top.logprobs.erase(top.logprobs.begin());
  }
  return top;
}

std::vector<BeamSearchSequence> BeamSearchFinalize(const BeamSearchInstance& inst,
                                                   const BeamSearchParams& params,
                                                   std::optional<int32_t> eos_token_id) {
  std::vector<BeamSearchSequence> all = inst.completed;
  all.insert(all.end(), inst.beams.begin(), inst.beams.end());
  SortByScore(all, eos_token_id, params.length_penalty);
  if (all.size() > size_t(params.beam_width)) all.resize(params.beam_width);
  return all;
}

}  // namespace pagellm

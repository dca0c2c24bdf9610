#include "runner/sampling_rows.h"

#include <algorithm>

#include "base/check.h"

namespace pagellm {
namespace {

void AddEdit(std::vector<ops::LogitEdit>& edits, int64_t vocab, int32_t token, int32_t kind,
             float value = 0.f) {
  if (token >= 0 && token < vocab) edits.push_back(ops::LogitEdit{token, kind, value});
}

// Same rule as ApplyBadWords: ban a word's last token when the output ends with the rest.
void AddBadWordBans(const SamplingState& s, int64_t vocab, std::vector<ops::LogitEdit>& edits) {
  const auto& out = s.output_token_ids;
  for (const auto& word : s.params->bad_words_token_ids) {
    if (word.empty()) continue;
    const size_t prefix = word.size() - 1;
    if (prefix > out.size()) continue;
    if (std::equal(word.begin(), word.end() - 1, out.end() - prefix))
      AddEdit(edits, vocab, word.back(), ops::kLogitBan);
  }
}

}  // namespace

bool DeviceSamplingSupports(const SamplingParams& p) {
  return !p.logprobs || (*p.logprobs >= 0 && *p.logprobs <= kMaxDeviceTopLogprobs);
}

bool NeedsHistory(const SamplingParams& p) {
  return p.repetition_penalty != 1.0 || p.frequency_penalty != 0.0 || p.presence_penalty != 0.0;
}

std::pair<std::span<const int32_t>, std::span<const int32_t>> HistoryParts(const SamplingState& s) {
  if (s.params->repetition_penalty != 1.0) return {s.prompt_token_ids, s.output_token_ids};
  return {std::span<const int32_t>(), s.output_token_ids};
}

ops::SampleRowParams BuildSampleRow(const SamplingState& s, int64_t vocab, int32_t* history,
                                    uint64_t* unseeded_state, std::vector<ops::LogitEdit>& edits) {
  CHECK(s.params != nullptr);
  const SamplingParams& p = *s.params;
  ops::SampleRowParams r;
  r.temperature = p.is_greedy() ? 0.0 : p.temperature;
  r.top_p = p.top_p;
  r.min_p = p.min_p;
  r.top_k = p.top_k;
  r.repetition_penalty = p.repetition_penalty;
  r.frequency_penalty = p.frequency_penalty;
  r.presence_penalty = p.presence_penalty;
  const size_t num_outputs = s.output_token_ids.size() + static_cast<size_t>(s.num_pending_outputs);
  if (!p.is_greedy()) r.u = DrawUniform(p, num_outputs, unseeded_state);
  if (NeedsHistory(p)) {
    const auto [first, second] = HistoryParts(s);
    r.history = history;
    r.num_prompt = static_cast<int32_t>(first.size());
    r.num_history = static_cast<int32_t>(first.size() + second.size());
    CHECK(history != nullptr || r.num_history == 0);
  }
  r.num_top_logprobs = p.logprobs ? *p.logprobs : -1;
  r.edits_begin = static_cast<int32_t>(edits.size());
  if (p.allowed_token_ids) {
    r.allow_list = 1;
    for (int32_t id : *p.allowed_token_ids) AddEdit(edits, vocab, id, ops::kLogitAllow);
  }
  AddBadWordBans(s, vocab, edits);
  if (static_cast<int32_t>(num_outputs) < p.min_tokens) {
    if (s.eos_token_id) AddEdit(edits, vocab, *s.eos_token_id, ops::kLogitBan);
    for (int32_t id : p.stop_token_ids) AddEdit(edits, vocab, id, ops::kLogitBan);
  }
  for (const auto& [id, bias] : p.logit_bias)
    AddEdit(edits, vocab, id, ops::kLogitBias, static_cast<float>(bias));
  r.edits_end = static_cast<int32_t>(edits.size());
  return r;
}

}  // namespace pagellm

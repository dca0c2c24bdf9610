#include "sample/logits_processors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace pagellm {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

bool InVocab(std::span<float> logits, int64_t id) {
  return id >= 0 && id < static_cast<int64_t>(logits.size());
}

// softmax probabilities in double (masked tokens → 0).
std::vector<double> Softmax(std::span<const float> logits) {
  float m = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  if (m == kNegInf) return p;
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) sum += p[i] = std::exp(logits[i] - m);
  for (double& v : p) v /= sum;
  return p;
}

}  // namespace

void ApplyAllowedTokenIds(std::span<float> logits, const std::vector<int32_t>& allowed) {
  std::vector<bool> keep(logits.size(), false);
  for (int32_t id : allowed)
    if (InVocab(logits, id)) keep[id] = true;
  for (size_t i = 0; i < logits.size(); ++i)
    if (!keep[i]) logits[i] = kNegInf;
}

void ApplyBadWords(std::span<float> logits, const std::vector<std::vector<int32_t>>& bad_words,
                   std::span<const int32_t> output_token_ids) {
  for (const auto& word : bad_words) {
    if (word.empty() || !InVocab(logits, word.back())) continue;
    const size_t prefix = word.size() - 1;
    if (prefix > output_token_ids.size()) continue;
    if (std::equal(word.begin(), word.end() - 1, output_token_ids.end() - prefix))
      logits[word.back()] = kNegInf;
  }
}

void ApplyMinTokens(std::span<float> logits, const SamplingParams& p, int32_t num_output_tokens,
                    std::optional<int32_t> eos_token_id) {
  if (num_output_tokens >= p.min_tokens) return;
  if (eos_token_id && InVocab(logits, *eos_token_id)) logits[*eos_token_id] = kNegInf;
  for (int32_t id : p.stop_token_ids)
    if (InVocab(logits, id)) logits[id] = kNegInf;
}

void ApplyLogitBias(std::span<float> logits, const SamplingParams& p) {
  for (const auto& [id, bias] : p.logit_bias)
    if (InVocab(logits, id)) logits[id] += static_cast<float>(bias);
}

void ApplyPenalties(std::span<float> logits, const SamplingParams& p,
                    std::span<const int32_t> prompt_token_ids,
                    std::span<const int32_t> output_token_ids) {
  if (p.repetition_penalty != 1.0) {
    std::unordered_set<int32_t> seen(prompt_token_ids.begin(), prompt_token_ids.end());
    seen.insert(output_token_ids.begin(), output_token_ids.end());
    const float rp = static_cast<float>(p.repetition_penalty);
    for (int32_t id : seen) {
      if (!InVocab(logits, id)) continue;
      float& l = logits[id];
      l = l > 0 ? l / rp : l * rp;
    }
  }
  if (p.frequency_penalty == 0.0 && p.presence_penalty == 0.0) return;
  std::unordered_map<int32_t, int32_t> counts;
  for (int32_t id : output_token_ids) ++counts[id];
  for (const auto& [id, count] : counts) {
    if (!InVocab(logits, id)) continue;
    logits[id] -= static_cast<float>(p.frequency_penalty * count + p.presence_penalty);
  }
}

void ApplyTemperature(std::span<float> logits, double temperature) {
  if (temperature == 1.0) return;
  const float t = static_cast<float>(temperature);
  for (float& l : logits) l /= t;
}

void ApplyMinP(std::span<float> logits, double min_p) {
  if (min_p <= 0.0) return;
  std::vector<double> probs = Softmax(logits);
  double threshold = min_p * *std::max_element(probs.begin(), probs.end());
  for (size_t i = 0; i < logits.size(); ++i)
    if (probs[i] < threshold) logits[i] = kNegInf;
}

void ApplyTopK(std::span<float> logits, int top_k) {
  if (top_k <= 0 || top_k >= int(logits.size())) return;
  std::vector<float> sorted(logits.begin(), logits.end());
  std::nth_element(sorted.begin(), sorted.begin() + (top_k - 1), sorted.end(), std::greater<>());
  const float kth = sorted[top_k - 1];
  for (float& l : logits)
    if (l < kth) l = kNegInf;
}

void ApplyTopP(std::span<float> logits, double top_p) {
  if (top_p >= 1.0) return;
  std::vector<double> probs = Softmax(logits);
  struct Cand {
    double p;
    int32_t id;
  };
  std::vector<Cand> cands;
  for (size_t i = 0; i < probs.size(); ++i)
    if (probs[i] > 0) cands.push_back({probs[i], static_cast<int32_t>(i)});
  auto more_likely = [](const Cand& a, const Cand& b) {
    return a.p != b.p ? a.p > b.p : a.id < b.id;
  };
  // A token stays while the tokens more likely than it sum to less than top_p. Sort only as
  // much of the vocabulary as the cut needs (usually a few dozen tokens).
  const size_t n = cands.size();
  size_t keep = 0;
  for (size_t k = std::min<size_t>(n, 64);; k = std::min(n, k * 8)) {
    if (k < n) std::nth_element(cands.begin(), cands.begin() + (k - 1), cands.end(), more_likely);
    std::sort(cands.begin(), cands.begin() + k, more_likely);
    double above = 0;
    size_t j = 0;
    while (j < k && above < top_p) above += cands[j++].p;
    if (above >= top_p || k == n) {
      keep = j;
      break;
    }
  }
  std::vector<bool> kept(logits.size(), false);
  for (size_t j = 0; j < keep; ++j) kept[cands[j].id] = true;
  for (size_t i = 0; i < logits.size(); ++i)
    if (!kept[i]) logits[i] = kNegInf;
}

int32_t Argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

int32_t SampleFromLogits(std::span<const float> logits, double u) {
  std::vector<double> probs = Softmax(logits);
  double target = u * std::accumulate(probs.begin(), probs.end(), 0.0);
  double cum = 0;
  int32_t last_nonzero = Argmax(logits);
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] <= 0) continue;
    cum += probs[i];
    last_nonzero = static_cast<int32_t>(i);
    if (cum > target) return last_nonzero;
  }
  return last_nonzero;  // rounding: u close to 1
}

std::vector<float> LogSoftmax(std::span<const float> logits) {
  float m = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(double(l) - m);
  const double lse = m + std::log(sum);
  std::vector<float> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = static_cast<float>(logits[i] - lse);
  return out;
}

TokenLogprobs GatherLogprobs(std::span<const float> logprobs, int32_t token, int num_top) {
  TokenLogprobs out;
  const float lp = logprobs[token];
  out.token_ids.push_back(token);
  out.logprobs.push_back(lp);
  out.sampled_rank = 0;  // vLLM: number of tokens at least as likely (itself included)
  for (float v : logprobs)
    if (v >= lp) ++out.sampled_rank;
  const int vocab = static_cast<int>(logprobs.size());
  const int k = num_top < 0 ? vocab : std::min(num_top, vocab);
  if (k == 0) return out;
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  auto by_logprob = [&](int32_t a, int32_t b) {
    return logprobs[a] != logprobs[b] ? logprobs[a] > logprobs[b] : a < b;
  };
  std::partial_sort(order.begin(), order.begin() + k, order.end(), by_logprob);
  for (int i = 0; i < k; ++i) {
    out.token_ids.push_back(order[i]);
    out.logprobs.push_back(logprobs[order[i]]);
  }
  return out;
}

}  // namespace pagellm

#include "sched/fake_model_runner.h"

#include "base/check.h"

namespace pagellm {

FakeModelRunner::FakeModelRunner(int32_t num_blocks, int32_t block_size, int32_t vocab_size)
    : block_size_(block_size), vocab_size_(vocab_size),
      kv_(static_cast<size_t>(num_blocks) * block_size, -1) {}

int32_t FakeModelRunner::NextToken(std::span<const int32_t> context, uint64_t seed,
                                   int32_t vocab_size) {
  uint64_t h = 0x243f6a8885a308d3ULL ^ seed;
  for (int32_t t : context) {
    h ^= static_cast<uint32_t>(t) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
  }
  h ^= h >> 33;
  return static_cast<int32_t>(h % static_cast<uint64_t>(vocab_size));
}

int64_t FakeModelRunner::Slot(const ReqState& s, int32_t pos) {
  size_t idx = static_cast<size_t>(pos / block_size_);
  if (idx >= s.block_table.size()) {
    ++sync_errors_;
    return -1;
  }
  return int64_t(s.block_table[idx]) * block_size_ + pos % block_size_;
}

void FakeModelRunner::ApplyDiff(const SchedulerOutput& out) {
  for (const auto& id : out.finished_req_ids) reqs_.erase(id);
  for (const auto& id : out.preempted_req_ids) reqs_.erase(id);
  for (const BlockCopy& c : out.block_copies)
    for (int32_t i = 0; i < block_size_; ++i)
      kv_[size_t(c.dst_block) * block_size_ + i] = kv_[size_t(c.src_block) * block_size_ + i];
  for (const NewRequestData& n : out.scheduled_new_reqs) {
    ReqState s;
    s.tokens = n.prompt_token_ids;
    s.tokens.insert(s.tokens.end(), n.output_token_ids.begin(), n.output_token_ids.end());
    s.block_table = n.block_ids;
    s.num_computed = n.num_computed_tokens;
    s.seed = static_cast<uint64_t>(n.sampling_params.seed.value_or(0));
    s.num_prompt_tokens = static_cast<int32_t>(n.prompt_token_ids.size());
    s.params = n.sampling_params;
    s.eos_token_id = n.eos_token_id;
    if (reqs_.count(n.req_id)) ++sync_errors_;
    reqs_[n.req_id] = std::move(s);
  }
  for (const CachedRequestData& c : out.scheduled_cached_reqs) {
    auto it = reqs_.find(c.req_id);
    if (it == reqs_.end()) {
      ++sync_errors_;
      continue;
    }
    ReqState& s = it->second;
    s.tokens.insert(s.tokens.end(), c.new_token_ids.begin(), c.new_token_ids.end());
    s.block_table.insert(s.block_table.end(), c.new_block_ids.begin(), c.new_block_ids.end());
    for (const auto& [index, block] : c.replaced_block_ids) s.block_table[index] = block;
    if (s.num_computed != c.num_computed_tokens) ++sync_errors_;
  }
}

ModelRunnerOutput FakeModelRunner::Execute(const SchedulerOutput& out) {
  ApplyDiff(out);
  ++step_;
  // The token at position p: known, or the placeholder sampled by the previous Execute.
  auto token_at = [this](const ReqState& s, int32_t p) {
    if (p < int32_t(s.tokens.size())) return s.tokens[p];
    const bool placeholder = p == int32_t(s.tokens.size()) && s.last_sampled_step == step_ - 1;
    return placeholder ? s.last_sampled : -2;
  };
  // Like a real forward pass: every layer writes the step's KV before attention reads it.
  for (const auto& [id, n] : out.num_scheduled_tokens) {
    ReqState& s = reqs_.at(id);
    for (int32_t p = s.num_computed; p < s.num_computed + n; ++p) {
      int64_t slot = Slot(s, p);
      const int32_t t = token_at(s, p);
      if (slot >= 0 && t != -2) kv_[slot] = t;
      if (t == -2) ++sync_errors_;
    }
  }
  ModelRunnerOutput result;
  for (const auto& [id, n] : out.num_scheduled_tokens) {
    ReqState& s = reqs_.at(id);
    const int32_t size = int32_t(s.tokens.size());
    const bool placeholder = s.num_computed + n == size + 1 && token_at(s, size) != -2;
    s.num_computed += n;
    result.req_ids.push_back(id);
    result.sampled_token_ids.emplace_back();
    const int32_t known = size + (placeholder ? 1 : 0);
    if (s.num_computed < known) continue;  // partial prefill chunk
    if (sampler_ && known > int32_t(s.tokens.size())) ++sync_errors_;
    std::vector<int32_t> context(s.num_computed);
    for (int32_t p = 0; p < s.num_computed; ++p) {
      int64_t slot = Slot(s, p);
      context[p] = slot >= 0 ? kv_[slot] : -1;
      if (context[p] != token_at(s, p)) ++kv_mismatches_;
    }
    SampleNext(s, context, result);
    s.last_sampled = result.sampled_token_ids.back().at(0);
    s.last_sampled_step = step_;
  }
  return result;
}

std::vector<float> FakeModelRunner::FakeLogits(std::span<const int32_t> context,
                                               int32_t vocab_size) {
  uint64_t h = static_cast<uint64_t>(NextToken(context, 12345, 1 << 30));
  std::vector<float> logits(vocab_size);
  for (int32_t i = 0; i < vocab_size; ++i) {
    h = h * 6364136223846793005ULL + 1442695040888963407ULL;
    logits[i] = static_cast<float>((h >> 40) % 1000) / 250.0f;  // [0, 4)
  }
  return logits;
}

void FakeModelRunner::SampleNext(ReqState& s, std::span<const int32_t> context,
                                 ModelRunnerOutput& result) {
  if (!sampler_) {
    result.sampled_token_ids.back().push_back(NextToken(context, s.seed, vocab_size_));
    return;
  }
  std::vector<float> logits = FakeLogits(context, vocab_size_);
  std::span<const int32_t> all(s.tokens);
  SamplingState st{&s.params, all.first(s.num_prompt_tokens), all.subspan(s.num_prompt_tokens),
                   s.eos_token_id};
  std::optional<TokenLogprobs> lp;
  result.sampled_token_ids.back().push_back(sampler_->SampleRow(logits, st, &lp));
  result.logprobs.resize(result.sampled_token_ids.size());
  if (lp) result.logprobs.back().push_back(std::move(*lp));
}

}  // namespace pagellm

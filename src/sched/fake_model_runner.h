// FakeModelRunner: a stand-in for ModelRunner in scheduler tests. It keeps a simulated paged KV
// cache (one token id per slot), applies each SchedulerOutput exactly as the real runner must
// (drop finished/preempted, block copies, new/cached request diffs), "computes" the scheduled
// tokens by writing them into their slots, and for every request whose prompt+output is fully
// computed emits NextToken() of the context READ BACK from the KV cache through its block
// table. So a wrong block table, prefix-cache hit, copy-on-write or preemption changes outputs,
// and kv_mismatches() counts every slot that did not hold the expected token.
// Async scheduling: a step may be executed before the previous one's Update(); a position one
// past the known tokens is then the token this runner sampled for the request in the previous
// Execute (a placeholder in the scheduler), as the real runner reads it on the device (only
// without a sampler: the CPU Sampler cannot count placeholders).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "sample/sampler.h"
#include "sched/scheduler_output.h"

namespace pagellm {

class FakeModelRunner {
 public:
  FakeModelRunner(int32_t num_blocks, int32_t block_size, int32_t vocab_size);

  ModelRunnerOutput Execute(const SchedulerOutput& out);

  // With a sampler, the fake model emits a logits row (FakeLogits of the context read back from
  // the KV cache) and samples it with the request's SamplingParams, like a real runner would.
  void set_sampler(Sampler* sampler) { sampler_ = sampler; }
  static std::vector<float> FakeLogits(std::span<const int32_t> context, int32_t vocab_size);

  // Deterministic "model": a hash of the whole context and the request's seed.
  static int32_t NextToken(std::span<const int32_t> context, uint64_t seed, int32_t vocab_size);

  int64_t kv_mismatches() const { return kv_mismatches_; }
  int64_t sync_errors() const { return sync_errors_; }
  int32_t num_requests() const { return static_cast<int32_t>(reqs_.size()); }

 private:
  struct ReqState {
    std::vector<int32_t> tokens;
    int32_t num_prompt_tokens = 0;
    SamplingParams params;
    std::optional<int32_t> eos_token_id;
    std::vector<int32_t> block_table;
    int32_t num_computed = 0;
    uint64_t seed = 0;
    int32_t last_sampled = -1;       // sampled by Execute number last_sampled_step
    int64_t last_sampled_step = -1;
  };
  void ApplyDiff(const SchedulerOutput& out);
  int64_t Slot(const ReqState& s, int32_t pos);
  void SampleNext(ReqState& s, std::span<const int32_t> context, ModelRunnerOutput& result);

  Sampler* sampler_ = nullptr;
  int32_t block_size_;
  int32_t vocab_size_;
  std::vector<int32_t> kv_;  // token id per slot, -1 = never written
  std::unordered_map<std::string, ReqState> reqs_;
  int64_t kv_mismatches_ = 0;
  int64_t sync_errors_ = 0;
  int64_t step_ = 0;  // Execute calls
};

}  // namespace pagellm

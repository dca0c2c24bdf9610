// DeviceSampler: samples a step's logits where the model left them (ops::SampleRows on the
// model's device) and copies back only the sampled ids [R], plus logprobs for the rows that ask
// for them. The CPU Sampler stays the reference: rows are built by sampling_rows.h so both make
// the same choices, with the same seeded streams (CounterUniform(seed, output length)).
// Penalty requests keep their token history (sampling_rows.h: HistoryParts) in a device buffer
// that grows by the tokens that are new since the last step; those travel inside the op's one
// upload per step (no full re-upload, no extra copy per request).
// Thread-safety: one thread (the runner's).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "ops/exec_ctx.h"
#include "ops/ops.h"
#include "sample/sampler.h"
#include "tensor/tensor.h"

namespace pagellm {

class DeviceSampler {
 public:
  struct Row {
    const std::string* req_id = nullptr;  // keys the device token history
    SamplingState state;
  };

  DeviceSampler(Device device, uint64_t unseeded_seed);

  // Whether Sample() handles this request (the rest: logprobs above kMaxDeviceTopLogprobs or
  // the whole vocabulary) — else sample the step on the host.
  static bool Supports(const SamplingParams& p);

  // REQUIRES: logits [rows.size(), V] on the device given to the constructor. Synchronises once
  // to read the ids (and once more per logprobs output when some row wants logprobs).
  StatusOr<SamplerOutput> Sample(const ExecCtx& ctx, const Tensor& logits,
                                 std::span<const Row> rows);

  // Async scheduling: one step's op outputs, still on the device (ids feed the next step's
  // inputs there), and what Finish needs to read their host copies.
  struct Pending {
    ops::SampleOutputs out;
    std::vector<int32_t> num_top_logprobs;  // per row; -1: no logprobs
    int64_t vocab = 0;
    bool any_logprobs = false;
  };
  // Enqueues the sampling without waiting (Sample = Launch + copies to host + Finish). The
  // device outputs to read back, in Finish's order: Outputs(p).
  StatusOr<Pending> Launch(const ExecCtx& ctx, const Tensor& logits, std::span<const Row> rows);
  static std::vector<Tensor> Outputs(const Pending& p);
  // The SamplerOutput from host copies of Outputs(p).
  StatusOr<SamplerOutput> Finish(const Pending& p, std::span<const Tensor> host) const;

  // Drops the device history of a request (finished, preempted, or re-added).
  void Forget(const std::string& req_id) { histories_.erase(req_id); }
  int32_t num_histories() const { return static_cast<int32_t>(histories_.size()); }
  // History tokens sent to the device since construction (tests: appends, not re-uploads).
  int64_t tokens_uploaded() const { return tokens_uploaded_; }
  int64_t num_steps() const { return num_steps_; }  // Sample() / Launch() calls that succeeded

 private:
  struct History {
    Tensor tokens;  // int32 [capacity] on the device
    int32_t size = 0;
  };
  StatusOr<Pending> LaunchImpl(const ExecCtx& ctx, const Tensor& logits,
                               std::span<const Row> rows);
  // Makes room for the request's whole history and queues its new tokens on `appends` (the op
  // writes them); returns the device pointer of the history.
  StatusOr<int32_t*> SyncHistory(const ExecCtx& ctx, const std::string& id,
                                 const SamplingState& s, std::vector<int32_t>& appends);

  Device device_;
  uint64_t unseeded_state_;
  std::unordered_map<std::string, History> histories_;
  int64_t tokens_uploaded_ = 0;
  int64_t num_steps_ = 0;
};

}  // namespace pagellm

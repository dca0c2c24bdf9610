// ModelRunner's async-scheduling path (vLLM's --async-scheduling): EnqueueStep / CollectStep.
// Step N+1 is enqueued before the host reads step N's sampled ids; the ids of step N stay on
// the device and become step N+1's input ids there (ops::FillPlaceholderIds), and a Readback
// copies them to page-locked memory behind step N's sampling, so CollectStep(N) does not wait
// for step N+1.
#include <algorithm>
#include <optional>

#include "base/phase_timer.h"
#include "ops/ops.h"
#include "runner/model_runner.h"

namespace pagellm {

StatusOr<std::unique_ptr<ops::Readback>> ModelRunner::TakeReadback() {
  if (spare_readbacks_.empty()) return ops::Readback::Create(ctx_.device);
  std::unique_ptr<ops::Readback> r = std::move(spare_readbacks_.back());
  spare_readbacks_.pop_back();
  return r;
}

Status ModelRunner::EnqueueStep(const SchedulerOutput& out) {
  if (!SupportsAsync()) return FailedPreconditionError("runner: async steps need device sampling");
  {
    ScopedPhase diff_phase("runner.apply_diff");
    RETURN_IF_ERROR(ApplyDiff(out));
  }
  RETURN_IF_ERROR(CopyBlocks(out.block_copies));
  ++step_serial_;
  std::vector<Planned> plan;
  std::vector<int32_t> token_ids, logits_rows;
  std::vector<SeqStep> seqs;
  std::optional<ScopedPhase> phase(std::in_place, "runner.plan");
  RETURN_IF_ERROR(Plan(out, plan, token_ids, seqs, logits_rows));
  phase.reset();
  const bool any_placeholder =
      std::any_of(plan.begin(), plan.end(), [](const Planned& p) { return p.num_pending > 0; });
  const Tensor* prev = any_placeholder ? &prev_sampled_ids_ : nullptr;
  PendingStep step;
  if (!logits_rows.empty()) {
    if (!CanSampleOnDevice(plan))
      return FailedPreconditionError("runner: an async step has a request the device cannot sample");
    ASSIGN_OR_RETURN(Tensor logits, Forward(token_ids, seqs, logits_rows, prev));
    phase.emplace("runner.sample");
    ASSIGN_OR_RETURN(step.sampled, device_sampler_->Launch(ctx_, logits, DeviceRows(plan)));
    ASSIGN_OR_RETURN(step.readback, TakeReadback());
    RETURN_IF_ERROR(step.readback->Enqueue(ctx_, DeviceSampler::Outputs(step.sampled)));
  } else if (!plan.empty()) {
    // Only partial prefill chunks: the KV cache still has to be written.
    RETURN_IF_ERROR(Forward(token_ids, seqs, {0}, prev).status());
  }
  int32_t k = 0;
  for (Planned& p : plan) {
    p.state->num_computed += p.num_tokens;
    step.req_ids.push_back(*p.id);
    step.sample_index.push_back(p.samples ? k : -1);
    if (!p.samples) continue;
    p.state->sampled_step = step_serial_;
    p.state->sampled_row = k++;
  }
  prev_sampled_ids_ = step.sampled.out.ids;
  pending_.push_back(std::move(step));
  return OkStatus();
}

StatusOr<ModelRunnerOutput> ModelRunner::CollectStep() {
  if (pending_.empty()) return FailedPreconditionError("runner: no async step to collect");
  PendingStep step = std::move(pending_.front());
  pending_.pop_front();
  SamplerOutput sampled;
  if (step.readback) {
    ScopedPhase phase("runner.wait_sampled");
    ASSIGN_OR_RETURN(std::vector<Tensor> host, step.readback->Wait());
    spare_readbacks_.push_back(std::move(step.readback));
    ASSIGN_OR_RETURN(sampled, device_sampler_->Finish(step.sampled, host));
  }
  ModelRunnerOutput result;
  const bool any_lp = std::any_of(sampled.logprobs.begin(), sampled.logprobs.end(),
                                  [](const auto& l) { return l.has_value(); });
  if (any_lp) result.logprobs.resize(step.req_ids.size());
  for (size_t i = 0; i < step.req_ids.size(); ++i) {
    result.req_ids.push_back(std::move(step.req_ids[i]));
    result.sampled_token_ids.emplace_back();
    const int32_t k = step.sample_index[i];
    if (k < 0) continue;
    result.sampled_token_ids[i].push_back(sampled.sampled_token_ids[k]);
    if (any_lp && sampled.logprobs[k]) result.logprobs[i].push_back(*sampled.logprobs[k]);
  }
  return result;
}

void ModelRunner::DiscardPendingSteps() {
  (void)ops::Synchronize(ctx_);
  pending_.clear();
  ++step_serial_;
  prev_sampled_ids_ = Tensor();
}

}  // namespace pagellm

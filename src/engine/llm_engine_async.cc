// LLMEngine's async scheduling (vLLM's --async-scheduling). One Step():
//   1. Schedule step N+1 (requests with step N in flight get a placeholder token) and enqueue
//      its forward pass + device sampling (ModelRunner::EnqueueStep); its input ids that the
//      host does not know are step N's sampled ids, read on the device;
//   2. wait for step N's sampled ids (ModelRunner::CollectStep) and run Update + output
//      processing for step N while the device runs step N+1.
// At most one step stays in flight between Step() calls. Requests that need every token on
// the host before the next step can be prepared (penalties and bad words read the history,
// prompt logprobs and logprobs beyond the device sampler's limit sample on the host) make
// steps synchronous while they are unfinished: the in-flight step is finished first.
#include <fmt/format.h>

#include "base/phase_timer.h"
#include "engine/llm_engine.h"
#include "runner/sampling_rows.h"

namespace pagellm {

void LLMEngine::TrackSyncRequest(const std::string& request_id, const SamplingParams& p) {
  if (NeedsHistory(p) || !p.bad_words_token_ids.empty() || p.prompt_logprobs ||
      !DeviceSamplingSupports(p))
    sync_requests_.insert(request_id);
}

bool LLMEngine::InFlight(const std::string& request_id, int n) const {
  for (const SchedulerOutput& s : in_flight_) {
    if (s.num_scheduled_tokens.count(request_id)) return true;
    for (int i = 0; n > 1 && i < n; ++i)
      if (s.num_scheduled_tokens.count(fmt::format("{}_{}", i, request_id))) return true;
  }
  return false;
}

void LLMEngine::ResetAsyncState() {
  if (!async_) return;
  runner_->DiscardPendingSteps();
  in_flight_.clear();
  drained_outputs_.clear();
  sync_requests_.clear();
}

StatusOr<std::vector<RequestOutput>> LLMEngine::FinishOldestInFlight() {
  SchedulerOutput sched = std::move(in_flight_.front());
  in_flight_.pop_front();
  ASSIGN_OR_RETURN(ModelRunnerOutput run, runner_->CollectStep());
  return FinishStep(sched, run);
}

Status LLMEngine::DrainInFlight() {
  while (!in_flight_.empty()) {
    ASSIGN_OR_RETURN(std::vector<RequestOutput> outs, FinishOldestInFlight());
    for (RequestOutput& o : outs) drained_outputs_.push_back(std::move(o));
  }
  return OkStatus();
}

StatusOr<std::vector<RequestOutput>> LLMEngine::AsyncStep() {
  if (!sync_requests_.empty()) RETURN_IF_ERROR(DrainInFlight());
  std::vector<RequestOutput> outputs = std::move(drained_outputs_);
  drained_outputs_.clear();
  auto append = [&outputs](std::vector<RequestOutput> more) {
    for (RequestOutput& o : more) outputs.push_back(std::move(o));
  };
  if (!sync_requests_.empty()) {  // the synchronous step, as without the flag
    if (!scheduler_->HasUnfinishedRequests()) return outputs;
    SchedulerOutput sched = scheduler_->Schedule();
    ASSIGN_OR_RETURN(ModelRunnerOutput run, runner_->Execute(sched));
    ASSIGN_OR_RETURN(std::vector<RequestOutput> more, FinishStep(sched, run));
    append(std::move(more));
    PhaseTimer::Get().EndStep();
    return outputs;
  }
  bool enqueued = false;
  if (scheduler_->HasUnfinishedRequests()) {
    SchedulerOutput sched;
    {
      ScopedPhase phase("engine.schedule");
      sched = scheduler_->Schedule();
    }
    {
      ScopedPhase phase("engine.enqueue");
      RETURN_IF_ERROR(runner_->EnqueueStep(sched));
    }
    in_flight_.push_back(std::move(sched));
    enqueued = true;
    if (in_flight_.size() > 1) ++num_async_steps_;
  }
  while (in_flight_.size() > (enqueued ? 1u : 0u)) {
    ASSIGN_OR_RETURN(std::vector<RequestOutput> more, FinishOldestInFlight());
    append(std::move(more));
  }
  PhaseTimer::Get().EndStep();
  return outputs;
}

}  // namespace pagellm

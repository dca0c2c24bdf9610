// Scheduler: requests in (AddRequest), tokens in (Update), requests out (finish, abort).
#include <algorithm>

#include <fmt/format.h>

#include "base/check.h"
#include "sched/scheduler.h"

namespace pagellm {

int32_t Scheduler::num_waiting() const {
  int32_t n = waiting_.size();
  for (const auto& [first, children] : awaiting_fork_) n += static_cast<int32_t>(children.size());
  return n;
}

const Request* Scheduler::GetRequest(const std::string& request_id) const {
  auto it = requests_.find(request_id);
  return it == requests_.end() ? nullptr : it->second.get();
}

Status Scheduler::ValidateRequest(const EngineCoreRequest& r) const {
  if (requests_.count(r.request_id) || parent_to_children_.count(r.request_id))
    return AlreadyExistsError(fmt::format("request id {} already exists", r.request_id));
  const int32_t prompt_len = static_cast<int32_t>(r.prompt_token_ids.size());
  if (prompt_len == 0) return InvalidArgumentError("The decoder prompt cannot be empty");
  if (prompt_len > config_.max_model_len)
    return InvalidArgumentError(fmt::format(
        "The decoder prompt (length {}) is longer than the maximum model length of {}. Make sure "
        "that `max_model_len` is no smaller than the number of text tokens.",
        prompt_len, config_.max_model_len));
  RETURN_IF_ERROR(r.sampling_params.Validate());
  const auto& p = r.sampling_params;
  if (p.n > 1)
    for (int i = 0; i < p.n; ++i)
      if (requests_.count(fmt::format("{}_{}", i, r.request_id)))
        return AlreadyExistsError(
            fmt::format("request id {}_{} already exists", i, r.request_id));
  // The KV of every token but the last sampled one must fit in the pool at once.
  int64_t max_tokens = p.max_tokens.value_or(config_.max_model_len - prompt_len);
  int64_t tokens = std::min<int64_t>(prompt_len + std::max<int64_t>(max_tokens, 1) - 1,
                                     config_.max_model_len);
  int64_t blocks = (tokens + cache_config_.block_size - 1) / cache_config_.block_size;
  if (blocks > cache_config_.num_gpu_blocks)
    return InvalidArgumentError(fmt::format(
        "request {} needs {} KV cache blocks ({} tokens) but the KV cache holds only {} blocks "
        "({} tokens): shorten the prompt or max_tokens, or give the KV cache more memory",
        r.request_id, blocks, tokens, cache_config_.num_gpu_blocks,
        int64_t(cache_config_.num_gpu_blocks) * cache_config_.block_size));
  return OkStatus();
}

Request* Scheduler::NewRequest(const EngineCoreRequest& r, int child_index, int num_children) {
  auto req = std::make_unique<Request>();
  req->request_id =
      num_children > 1 ? fmt::format("{}_{}", child_index, r.request_id) : r.request_id;
  if (num_children > 1) req->parent_request_id = r.request_id;
  req->child_index = child_index;
  req->prompt_token_ids = r.prompt_token_ids;
  req->all_token_ids = r.prompt_token_ids;
  req->sampling_params = r.sampling_params;
  req->sampling_params.n = 1;
  req->sampling_params.best_of.reset();
  if (req->sampling_params.seed) *req->sampling_params.seed += child_index;
  req->eos_token_id = r.eos_token_id;
  req->priority = r.priority;
  req->arrival_time = r.arrival_time;
  req->arrival_seq = next_arrival_seq_++;
  req->cache_keys = r.cache_keys;
  req->max_tokens = r.sampling_params.max_tokens.value_or(config_.max_model_len -
                                                          req->num_prompt_tokens());
  req->max_tokens = std::max(req->max_tokens, 1);
  Request* raw = req.get();
  requests_.emplace(raw->request_id, std::move(req));
  return raw;
}

Status Scheduler::AddRequest(EngineCoreRequest request) {
  RETURN_IF_ERROR(request.sampling_params.Finalize());  // idempotent; the runner gets it as is
  RETURN_IF_ERROR(ValidateRequest(request));
  const int n = request.sampling_params.n;
  Request* first = NewRequest(request, 0, n);
  waiting_.Add(first);
  if (n == 1) return OkStatus();
  std::vector<std::string>& ids = parent_to_children_[request.request_id];
  ids.push_back(first->request_id);
  std::vector<Request*>& rest = awaiting_fork_[first->request_id];
  for (int i = 1; i < n; ++i) {
    Request* c = NewRequest(request, i, n);
    ids.push_back(c->request_id);
    rest.push_back(c);
  }
  return OkStatus();
}

bool Scheduler::CheckStop(Request* r) const {
  const SamplingParams& p = r->sampling_params;
  const int32_t last = r->output_token_ids.back();
  if (r->num_output_tokens() >= p.min_tokens) {
    if (!p.ignore_eos && r->eos_token_id && last == *r->eos_token_id) {
      r->status = RequestStatus::kFinishedStopped;
      return true;
    }
    if (std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), last) !=
        p.stop_token_ids.end()) {
      r->status = RequestStatus::kFinishedStopped;
      r->stop_reason = last;
      return true;
    }
  }
  if (r->num_tokens() >= config_.max_model_len || r->num_output_tokens() >= r->max_tokens) {
    r->status = RequestStatus::kFinishedLengthCapped;
    return true;
  }
  return false;
}

std::vector<EngineCoreOutput> Scheduler::Update(const SchedulerOutput& scheduler_output,
                                                const ModelRunnerOutput& runner_output) {
  std::vector<EngineCoreOutput> outs;
  outs.reserve(runner_output.req_ids.size());
  std::vector<Request*> finished;  // still in running_ until the loop is done
  for (size_t i = 0; i < runner_output.req_ids.size(); ++i) {
    Request* r = FindScheduled(i, runner_output.req_ids[i]);
    if (r == nullptr) continue;  // aborted during the step
    if (r->status != RequestStatus::kRunning) continue;
    // Tokens sampled after a partial prefill chunk are meaningless: drop them.
    if (r->num_computed_tokens < r->num_tokens()) continue;
    const std::vector<int32_t>& tokens = runner_output.sampled_token_ids[i];
    if (tokens.empty()) continue;
    r->num_output_placeholders = std::max(0, r->num_output_placeholders - 1);
    EngineCoreOutput& o = outs.emplace_back();
    o.request_id = r->request_id;
    o.parent_request_id = r->parent_request_id;
    o.child_index = r->child_index;
    o.num_cached_tokens = std::max(r->num_cached_tokens, 0);
    o.new_token_ids.reserve(tokens.size());
    for (size_t k = 0; k < tokens.size(); ++k) {
      r->AppendOutputToken(tokens[k]);
      o.new_token_ids.push_back(tokens[k]);
      if (i < runner_output.logprobs.size() && k < runner_output.logprobs[i].size())
        o.new_logprobs.push_back(runner_output.logprobs[i][k]);
      if (CheckStop(r)) break;
    }
    if (r->is_finished()) {
      o.finish_reason = r->finish_reason();
      o.stop_reason = r->stop_reason;
      finished.push_back(r);
    }
  }
  // One pass over running_ for all of them (erasing one by one was O(running) each); then the
  // rest of FinishAndFree in the same order as before.
  last_scheduled_.clear();
  if (!finished.empty()) {
    EraseFinishedFromRunning();
    for (Request* r : finished) ReleaseFinished(r);
  }
  return outs;
}

void Scheduler::PromoteForkChildren(Request* first) {
  auto node = awaiting_fork_.extract(first->request_id);
  if (node.empty() || node.mapped().empty()) return;
  std::vector<Request*>& children = node.mapped();
  Request* next = children.front();
  if (children.size() > 1)
    awaiting_fork_[next->request_id].assign(children.begin() + 1, children.end());
  waiting_.Prepend(next);
}

void Scheduler::FinishAndFree(Request* r, RequestStatus status) {
  CHECK(status >= RequestStatus::kFinishedStopped);
  r->status = status;
  auto run = std::find(running_.begin(), running_.end(), r);
  if (run != running_.end()) {
    EraseRunning(run);
  } else if (!waiting_.Remove(r)) {
    for (auto& [first, children] : awaiting_fork_) {  // a child still waiting for its fork
      auto c = std::find(children.begin(), children.end(), r);
      if (c != children.end()) {
        children.erase(c);
        break;
      }
    }
  }
  ReleaseFinished(r);
}

Request* Scheduler::FindScheduled(size_t index, const std::string& id) const {
  // Runners return the step's requests in num_scheduled_tokens order: usually a direct hit.
  if (index < last_scheduled_.size() && last_scheduled_[index]->request_id == id)
    return last_scheduled_[index];
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : it->second.get();
}

void Scheduler::ReleaseFinished(Request* r) {
  last_scheduled_.clear();  // may hold r
  const std::string id = r->request_id;
  kv_->Free(id);
  if (awaiting_fork_.count(id)) PromoteForkChildren(r);
  if (!r->parent_request_id.empty()) {
    auto p = parent_to_children_.find(r->parent_request_id);
    if (p != parent_to_children_.end()) {
      std::erase(p->second, id);
      if (p->second.empty()) parent_to_children_.erase(p);
    }
  }
  finished_req_ids_.push_back(id);
  requests_.erase(id);
}

void Scheduler::AbortRequests(std::span<const std::string> request_ids) {
  for (const std::string& id : request_ids) {
    auto p = parent_to_children_.find(id);
    if (p != parent_to_children_.end()) {
      std::vector<std::string> children = p->second;
      AbortRequests(children);
      continue;
    }
    auto it = requests_.find(id);
    if (it != requests_.end()) FinishAndFree(it->second.get(), RequestStatus::kFinishedAborted);
  }
}

Status Scheduler::FinishRequest(const std::string& request_id, FinishReason reason,
                                StopReason stop_reason) {
  auto it = requests_.find(request_id);
  if (it == requests_.end())
    return NotFoundError(fmt::format("request {} is not running or waiting", request_id));
  Request* r = it->second.get();
  r->stop_reason = std::move(stop_reason);
  RequestStatus status = reason == FinishReason::kStop     ? RequestStatus::kFinishedStopped
                         : reason == FinishReason::kLength ? RequestStatus::kFinishedLengthCapped
                                                           : RequestStatus::kFinishedAborted;
  FinishAndFree(r, status);
  return OkStatus();
}

}  // namespace pagellm

// Scheduler: forking running requests (beam search) and metrics.
#include <fmt/format.h>

#include "sched/scheduler.h"

namespace pagellm {

Status Scheduler::ForkRequest(const std::string& src_request_id,
                              const std::string& new_request_id) {
  auto it = requests_.find(src_request_id);
  if (it == requests_.end())
    return NotFoundError(fmt::format("request {} is not running or waiting", src_request_id));
  if (requests_.count(new_request_id) || parent_to_children_.count(new_request_id))
    return AlreadyExistsError(fmt::format("request id {} already exists", new_request_id));
  const Request& src = *it->second;
  if (src.status != RequestStatus::kRunning || src.num_computed_tokens != src.num_tokens() - 1 ||
      awaiting_fork_.count(src_request_id))
    return FailedPreconditionError(fmt::format(
        "request {} can only be forked while running, between decode steps", src_request_id));
  auto req = std::make_unique<Request>(src);
  req->request_id = new_request_id;
  req->parent_request_id.clear();
  req->child_index = 0;
  req->arrival_seq = next_arrival_seq_++;
  req->sent_to_runner = false;
  req->num_synced_tokens = 0;
  req->num_preemptions = 0;
  kv_->Fork(src_request_id, new_request_id);
  AddRunning(req.get());
  requests_.emplace(new_request_id, std::move(req));
  return OkStatus();
}

Status Scheduler::ReplaceLastOutputToken(const std::string& request_id, int32_t token) {
  auto it = requests_.find(request_id);
  if (it == requests_.end())
    return NotFoundError(fmt::format("request {} is not running or waiting", request_id));
  Request& r = *it->second;
  if (r.status != RequestStatus::kRunning || r.output_token_ids.empty() ||
      r.num_computed_tokens >= r.num_tokens() || r.num_synced_tokens >= r.num_tokens())
    return FailedPreconditionError(fmt::format(
        "request {} has no uncomputed last output token to replace", request_id));
  r.output_token_ids.back() = token;
  r.all_token_ids.back() = token;
  return OkStatus();
}

Scheduler::Stats Scheduler::GetStats() const {
  Stats s;
  s.num_running = num_running();
  s.num_waiting = num_waiting();
  s.kv_cache_usage = kv_->block_pool().usage();
  s.prefix_cache_queries = kv_->prefix_cache_queries();
  s.prefix_cache_hits = kv_->prefix_cache_hits();
  s.num_preemptions = num_preemptions_;
  return s;
}

}  // namespace pagellm

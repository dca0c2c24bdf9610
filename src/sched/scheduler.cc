// Scheduler::Schedule() and its phases. Requests in/out: scheduler_requests.cc.
#include "sched/scheduler.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "base/check.h"

namespace pagellm {

// What one Schedule() call decided so far; preemption can take a decision back. Flat vectors,
// not maps keyed by Request*: with ~1000 running requests the per-entry allocations and hashing
// showed in the step time, while lookups (Has/Remove) only happen on preemption.
struct Scheduler::Step {
  struct Entry {
    Request* request;
    int32_t num_tokens;
    SlotAllocation alloc;
  };
  int32_t budget = 0;
  std::vector<Entry> scheduled;  // in scheduling order
  std::vector<Request*> preempted;

  std::vector<Entry>::iterator Find(Request* r) {
    return std::find_if(scheduled.begin(), scheduled.end(),
                        [r](const Entry& e) { return e.request == r; });
  }
  bool Has(Request* r) { return Find(r) != scheduled.end(); }
  void Add(Request* r, int32_t n, SlotAllocation a) {
    scheduled.push_back(Entry{r, n, std::move(a)});
    r->step_num_tokens = n;
    budget -= n;
  }
  void Remove(Request* r) {
    auto it = Find(r);
    budget += it->num_tokens;
    r->step_num_tokens = 0;
    scheduled.erase(it);
  }
};

Status SchedulerConfig::Validate() const {
  if (max_num_batched_tokens < 1)
    return InvalidArgumentError(
        fmt::format("max_num_batched_tokens must be at least 1, got {}", max_num_batched_tokens));
  if (max_num_seqs < 1)
    return InvalidArgumentError(fmt::format("max_num_seqs must be at least 1, got {}", max_num_seqs));
  if (max_model_len < 1)
    return InvalidArgumentError(fmt::format("max_model_len must be at least 1, got {}", max_model_len));
  if (long_prefill_token_threshold < 0)
    return InvalidArgumentError(fmt::format("long_prefill_token_threshold must be >= 0, got {}",
                                            long_prefill_token_threshold));
  if (!enable_chunked_prefill && max_num_batched_tokens < max_model_len)
    return InvalidArgumentError(fmt::format(
        "max_num_batched_tokens ({}) is smaller than max_model_len ({}). This effectively limits "
        "the maximum sequence length to max_num_batched_tokens and makes the engine reject longer "
        "sequences. Please increase max_num_batched_tokens or decrease max_model_len (or enable "
        "chunked prefill).",
        max_num_batched_tokens, max_model_len));
  return OkStatus();
}

StatusOr<std::unique_ptr<Scheduler>> Scheduler::Create(const SchedulerConfig& config,
                                                       const CacheConfig& cache_config) {
  RETURN_IF_ERROR(config.Validate());
  if (cache_config.block_size < 1)
    return InvalidArgumentError(
        fmt::format("block_size must be at least 1, got {}", cache_config.block_size));
  if (cache_config.num_gpu_blocks < 1)
    return InvalidArgumentError(
        fmt::format("num_gpu_blocks must be at least 1, got {}", cache_config.num_gpu_blocks));
  return std::unique_ptr<Scheduler>(new Scheduler(config, cache_config));
}

Scheduler::Scheduler(const SchedulerConfig& config, const CacheConfig& cache_config)
    : config_(config),
      cache_config_(cache_config),
      kv_(std::make_unique<KVCacheManager>(cache_config.num_gpu_blocks, cache_config.block_size,
                                           cache_config.enable_prefix_caching)),
      waiting_(config.policy) {}

SchedulerOutput Scheduler::Schedule() {
  Step step;
  step.budget = config_.max_num_batched_tokens;
  step.scheduled.reserve(std::min<size_t>(running_.size() + waiting_.size(),
                                          static_cast<size_t>(config_.max_num_seqs)));
  ScheduleRunning(step);
  // Like vLLM: no admissions in a step that had to preempt (the pool is full).
  if (step.preempted.empty()) ScheduleWaiting(step);
  return BuildOutput(step);
}

int32_t Scheduler::NumNewTokens(const Request& r, int32_t num_computed, int32_t budget) const {
  // A placeholder that will end the request (length) needs no further step.
  const int32_t pending = r.num_output_placeholders;
  if (pending > 0 && (r.num_output_tokens() + pending >= r.max_tokens ||
                      r.num_tokens() + pending >= config_.max_model_len))
    return 0;
  int32_t n = r.num_tokens() + pending - num_computed;
  if (config_.long_prefill_token_threshold > 0)
    n = std::min(n, config_.long_prefill_token_threshold);
  n = std::min(n, budget);
  return std::min(n, config_.max_model_len - num_computed);
}

void Scheduler::ScheduleRunning(Step& step) {
  size_t i = 0;
  while (i < running_.size() && step.budget > 0 &&
         int32_t(step.scheduled.size()) < config_.max_num_seqs) {
    Request* r = running_[i];
    int32_t n = NumNewTokens(*r, r->num_computed_tokens, step.budget);
    if (n <= 0) {
      ++i;
      continue;
    }
    std::optional<SlotAllocation> alloc;
    bool preempted_self = false;
    while (!(alloc = kv_->AllocateSlots(r->request_id, r->num_computed_tokens, n))) {
      Request* victim = PickVictim();
      size_t vi = std::find(running_.begin(), running_.end(), victim) - running_.begin();
      Preempt(victim, step);
      if (victim == r) {
        preempted_self = true;
        break;
      }
      if (vi < i) --i;
    }
    if (preempted_self) break;
    step.Add(r, n, std::move(*alloc));
    ++i;
  }
}

void Scheduler::ScheduleWaiting(Step& step) {
  while (!waiting_.empty() && step.budget > 0 &&
         int32_t(running_.size()) < config_.max_num_seqs &&
         int32_t(step.scheduled.size()) < config_.max_num_seqs) {
    Request* r = waiting_.Peek();
    CHECK_EQ(r->num_computed_tokens, 0);
    // Prompt logprobs need logits at every prompt position: no prefix-cache reads (vLLM).
    ComputedBlocks hit;
    if (!r->sampling_params.prompt_logprobs)
      hit = kv_->GetComputedBlocks(r->request_id, r->all_token_ids, r->cache_keys);
    const int32_t computed = hit.num_computed_tokens;
    int32_t want = r->num_tokens() - computed;
    if (!config_.enable_chunked_prefill && want > step.budget) break;
    int32_t n = NumNewTokens(*r, computed, step.budget);
    CHECK_GT(n, 0);
    std::optional<SlotAllocation> alloc =
        kv_->AllocateSlots(r->request_id, computed, n, hit.block_ids);
    if (!alloc) break;  // head-of-line: wait for blocks
    waiting_.PopFront();
    r->num_computed_tokens = computed;
    if (r->num_cached_tokens < 0) r->num_cached_tokens = computed;
    r->status = RequestStatus::kRunning;
    AddRunning(r);
    step.Add(r, n, std::move(*alloc));
  }
}

Request* Scheduler::PickVictim() const {
  CHECK(!running_.empty());
  if (config_.policy == SchedulingPolicy::kFcfs) return running_.back();
  return *std::max_element(running_.begin(), running_.end(),
                           [](const Request* a, const Request* b) { return PriorityBefore(*a, *b); });
}

void Scheduler::Preempt(Request* r, Step& step) {
  if (step.Has(r)) step.Remove(r);
  EraseRunning(std::find(running_.begin(), running_.end(), r));
  kv_->Free(r->request_id);
  r->status = RequestStatus::kPreempted;
  r->num_computed_tokens = 0;
  r->sent_to_runner = false;
  r->num_synced_tokens = 0;
  r->num_output_placeholders = 0;
  ++r->num_preemptions;
  ++num_preemptions_;
  waiting_.Prepend(r);
  step.preempted.push_back(r);
}

SchedulerOutput Scheduler::BuildOutput(Step& step) {
  SchedulerOutput out;
  out.scheduled_cached_reqs.reserve(step.scheduled.size());
  for (Step::Entry& e : step.scheduled) {
    Request* r = e.request;
    const int32_t n = e.num_tokens;
    SlotAllocation& a = e.alloc;
    // Placeholder tokens are not known yet: only known ones can be hashed.
    kv_->CacheBlocks(r->request_id, r->all_token_ids,
                     std::min(r->num_computed_tokens + n, r->num_tokens()), r->cache_keys);
    if (a.copy) out.block_copies.push_back(*a.copy);
    if (!r->sent_to_runner) {
      std::span<const int32_t> table = kv_->GetBlockIds(r->request_id);
      out.scheduled_new_reqs.push_back(NewRequestData{
          r->request_id, r->prompt_token_ids, r->output_token_ids, r->sampling_params,
          r->eos_token_id, std::vector<int32_t>(table.begin(), table.end()),
          r->num_computed_tokens});
      r->sent_to_runner = true;
    } else {
      CachedRequestData c;
      c.req_id = r->request_id;
      c.new_token_ids.assign(r->all_token_ids.begin() + r->num_synced_tokens,
                             r->all_token_ids.end());
      c.new_block_ids = std::move(a.new_block_ids);
      if (a.copy) c.replaced_block_ids.emplace_back(a.replaced_index, a.copy->dst_block);
      c.num_computed_tokens = r->num_computed_tokens;
      out.scheduled_cached_reqs.push_back(std::move(c));
    }
    r->num_synced_tokens = r->num_tokens();
    out.total_num_scheduled_tokens += n;
    r->num_computed_tokens += n;
    // The step samples for r (its whole context is scheduled): one more token in flight.
    if (config_.async_scheduling &&
        r->num_computed_tokens == r->num_tokens() + r->num_output_placeholders)
      ++r->num_output_placeholders;
  }
  FillNumScheduledTokens(step, out);
  out.finished_req_ids.swap(finished_req_ids_);
  for (Request* p : step.preempted) out.preempted_req_ids.push_back(p->request_id);
  if (!awaiting_fork_.empty()) {
    for (const Step::Entry& e : step.scheduled) {
      Request* r = e.request;
      if (awaiting_fork_.count(r->request_id) && r->num_computed_tokens >= r->num_prompt_tokens())
        ForkChildren(r);
    }
  }
  return out;
}

namespace {

bool IdBefore(const Request* a, const Request* b) { return a->request_id < b->request_id; }

}  // namespace

void Scheduler::AddRunning(Request* r) {
  running_.push_back(r);
  running_by_id_.insert(
      std::lower_bound(running_by_id_.begin(), running_by_id_.end(), r, IdBefore), r);
}

void Scheduler::EraseRunning(std::vector<Request*>::iterator it) {
  Request* r = *it;
  running_.erase(it);
  auto s = std::lower_bound(running_by_id_.begin(), running_by_id_.end(), r, IdBefore);
  CHECK(s != running_by_id_.end() && *s == r);
  running_by_id_.erase(s);
}

void Scheduler::EraseFinishedFromRunning() {
  std::erase_if(running_, [](const Request* r) { return r->is_finished(); });
  std::erase_if(running_by_id_, [](const Request* r) { return r->is_finished(); });
}

// The map's order is by id, the step's by schedule: walk the running requests in id order (kept
// sorted as they come and go) instead of sorting the step's ids every step.
void Scheduler::FillNumScheduledTokens(const Step& step, SchedulerOutput& out) {
  out.num_scheduled_tokens.reserve(step.scheduled.size());
  last_scheduled_.clear();
  for (Request* r : running_by_id_) {
    if (r->step_num_tokens == 0) continue;
    last_scheduled_.push_back(r);
    out.num_scheduled_tokens.AppendSorted(r->request_id, r->step_num_tokens);
    r->step_num_tokens = 0;
  }
  CHECK_EQ(out.num_scheduled_tokens.size(), step.scheduled.size());  // all were running
}

void Scheduler::ForkChildren(Request* first) {
  auto node = awaiting_fork_.extract(first->request_id);
  for (Request* c : node.mapped()) {
    kv_->Fork(first->request_id, c->request_id);
    c->num_computed_tokens = c->num_prompt_tokens() - 1;
    c->num_cached_tokens = c->num_computed_tokens;
    c->status = RequestStatus::kRunning;
    AddRunning(c);
  }
}

}  // namespace pagellm

#include "sched/scheduler_output.h"

#include <fmt/format.h>

namespace pagellm {

std::string SchedulerOutputSummary(const SchedulerOutput& out) {
  int64_t new_tokens = 0;
  for (const auto& r : out.scheduled_new_reqs) {
    auto it = out.num_scheduled_tokens.find(r.req_id);
    if (it != out.num_scheduled_tokens.end()) new_tokens += it->second;
  }
  return fmt::format("new {} (+{} tok) cached {} total {} tok preempted {} finished {} copies {}",
                     out.scheduled_new_reqs.size(), new_tokens, out.scheduled_cached_reqs.size(),
                     out.total_num_scheduled_tokens, out.preempted_req_ids.size(),
                     out.finished_req_ids.size(), out.block_copies.size());
}

}  // namespace pagellm

#include "sched/request_queue.h"

#include <algorithm>
#include <tuple>

namespace pagellm {

bool PriorityBefore(const Request& a, const Request& b) {
  return std::tie(a.priority, a.arrival_time, a.arrival_seq) <
         std::tie(b.priority, b.arrival_time, b.arrival_seq);
}

void RequestQueue::InsertByPriority(Request* r) {
  auto it = std::upper_bound(q_.begin(), q_.end(), r, [](const Request* a, const Request* b) {
    return PriorityBefore(*a, *b);
  });
  q_.insert(it, r);
}

void RequestQueue::Add(Request* r) {
  if (policy_ == SchedulingPolicy::kPriority) {
    InsertByPriority(r);
  } else {
    q_.push_back(r);
  }
}

void RequestQueue::Prepend(Request* r) {
  if (policy_ == SchedulingPolicy::kPriority) {
    InsertByPriority(r);
  } else {
    q_.push_front(r);
  }
}

Request* RequestQueue::PopFront() {
  Request* r = q_.front();
  q_.pop_front();
  return r;
}

bool RequestQueue::Remove(const Request* r) {
  auto it = std::find(q_.begin(), q_.end(), r);
  if (it == q_.end()) return false;
  q_.erase(it);
  return true;
}

}  // namespace pagellm

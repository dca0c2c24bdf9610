// The waiting queue under a scheduling policy: FCFS (arrival order) or priority (lower
// `priority` first, then earlier arrival). Preempted requests go back to the front (FCFS) or
// to their place by priority.
#pragma once

#include <cstdint>
#include <deque>

#include "sched/request.h"

namespace pagellm {

enum class SchedulingPolicy { kFcfs, kPriority };

class RequestQueue {
 public:
  explicit RequestQueue(SchedulingPolicy policy) : policy_(policy) {}

  void Add(Request* r);       // a new arrival
  void Prepend(Request* r);   // a preempted request
  Request* Peek() const { return q_.front(); }
  Request* PopFront();
  bool Remove(const Request* r);
  bool empty() const { return q_.empty(); }
  int32_t size() const { return static_cast<int32_t>(q_.size()); }
  auto begin() const { return q_.begin(); }
  auto end() const { return q_.end(); }

 private:
  void InsertByPriority(Request* r);

  SchedulingPolicy policy_;
  std::deque<Request*> q_;
};

// True when a should run before b under the priority policy.
bool PriorityBefore(const Request& a, const Request& b);

}  // namespace pagellm

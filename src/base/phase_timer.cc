#include "base/phase_timer.h"

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/logging.h"

namespace pagellm {

PhaseTimer& PhaseTimer::Get() {
  static PhaseTimer timer;
  return timer;
}

PhaseTimer::PhaseTimer() {
  const char* env = std::getenv("PAGELLM_PROFILE_STEPS");
  enabled_ = env != nullptr && std::strcmp(env, "0") != 0 && env[0] != '\0';
  const char* trace = std::getenv("PAGELLM_STEP_TRACE");
  if (trace != nullptr && trace[0] != '\0') {
    trace_ = std::fopen(trace, "w");
    if (trace_ == nullptr) LOG_WARN("PAGELLM_STEP_TRACE: cannot open {}", trace);
    enabled_ = enabled_ || trace_ != nullptr;
  }
}

PhaseTimer::~PhaseTimer() {
  if (trace_) std::fclose(trace_);
}

void PhaseTimer::Note(const char* key, double value) {
  if (trace_) line_ += fmt::format(" {}={:g}", key, value);
}

void PhaseTimer::EndStep() {
  if (!trace_) return;
  std::fprintf(trace_, "step=%lld%s\n", static_cast<long long>(step_++), line_.c_str());
  line_.clear();
}

void PhaseTimer::Add(const char* phase, double seconds) {
  Total& t = totals_[phase];
  t.seconds += seconds;
  ++t.calls;
  if (trace_) line_ += fmt::format(" {}_ms={:.3f}", phase, 1e3 * seconds);
}

void PhaseTimer::Report() {
  if (!enabled_) return;
  for (const auto& [name, t] : totals_)
    LOG_INFO("phase {:<24} {:9.3f} s {:8d} calls {:9.3f} ms/call", name, t.seconds, t.calls,
             t.calls ? 1e3 * t.seconds / static_cast<double>(t.calls) : 0.0);
  totals_.clear();
}

}  // namespace pagellm

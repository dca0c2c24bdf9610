// PhaseTimer: wall-clock totals per named phase of the engine step, for finding where a step's
// time goes without a profiler. Enabled by PAGELLM_PROFILE_STEPS=1 (read once); when disabled a
// ScopedPhase costs one branch. The totals are logged by Report() (LLMEngine's destructor).
// PAGELLM_STEP_TRACE=FILE (read once, implies enabled) also appends one line per engine step to
// FILE: "step=N <phase>_ms=... <note>=..." with the step's phases and the values Note()d during
// it (e.g. the batch's token and context counts), for fitting step time against batch shape.
// Thread-safety: phases are recorded by the engine thread only.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

namespace pagellm {

class PhaseTimer {
 public:
  static PhaseTimer& Get();
  bool enabled() const { return enabled_; }
  void Add(const char* phase, double seconds);
  // Adds a named value to the current step's trace line (no-op without PAGELLM_STEP_TRACE).
  void Note(const char* key, double value);
  // Ends the current step: writes its trace line when tracing.
  void EndStep();
  // Logs "phase: total s, calls, mean ms" for every phase, then clears the totals.
  void Report();

 private:
  PhaseTimer();
  ~PhaseTimer();
  struct Total {
    double seconds = 0;
    int64_t calls = 0;
  };
  bool enabled_ = false;
  std::map<std::string, Total> totals_;
  std::FILE* trace_ = nullptr;
  int64_t step_ = 0;
  std::string line_;  // the current step's "key=value" fields
};

class ScopedPhase {
 public:
  explicit ScopedPhase(const char* phase)
      : phase_(PhaseTimer::Get().enabled() ? phase : nullptr) {
    if (phase_) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedPhase() {
    if (phase_)
      PhaseTimer::Get().Add(
          phase_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  ScopedPhase(const ScopedPhase&) = delete;
  ScopedPhase& operator=(const ScopedPhase&) = delete;

 private:
  const char* phase_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace pagellm

// The host work of an engine step after the forward pass (LLMEngine's "engine.update+output"
// phase), as one function so that tools/benchmarks drive exactly what the engine runs.
// Thread-safety: the engine thread (as Scheduler and OutputProcessor).
#pragma once

#include <cstdint>

#include "engine/output_processor.h"
#include "sched/scheduler.h"

namespace pagellm {

// Scheduler::Update with the runner's output, OutputProcessor::Process of the resulting
// EngineCoreOutputs (with the step's prompt logprobs), and finishing in the scheduler the
// requests a stop string ended. Adds the step's new tokens to *generation_tokens.
OutputProcessor::Result ProcessStepOutputs(Scheduler& scheduler, OutputProcessor& outputs,
                                           const SchedulerOutput& sched, ModelRunnerOutput& run,
                                           int64_t& generation_tokens);

}  // namespace pagellm

// The CUDA op profiler's report, behind the op interface (backends/cuda/op_profile.h says what
// it measures; PAGELLM_PROFILE_OPS=1 turns it on). A no-op without CUDA or when disabled.
#pragma once

namespace pagellm::ops {

// Logs the GPU time per op since the last report, largest first.
void ReportOpProfile();

}  // namespace pagellm::ops

#include "ops/op_profile.h"

#if PAGELLM_HAVE_CUDA
#include "backends/cuda/op_profile.h"
#endif

namespace pagellm::ops {

void ReportOpProfile() {
#if PAGELLM_HAVE_CUDA
  cuda::OpProfileReport();
#endif
}

}  // namespace pagellm::ops

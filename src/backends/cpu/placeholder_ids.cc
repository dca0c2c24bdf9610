// FillPlaceholderIds on the CPU: the reference (and what async scheduling runs on CPU models).
#include <string>

#include "backends/cpu/cpu_ops.h"

namespace pagellm::cpu {

Status FillPlaceholderIds(const ExecCtx&, int32_t* ids, int64_t num_ids, const int32_t* prev_ids,
                          int64_t num_prev) {
  for (int64_t r = 0; r < num_ids; ++r) {
    if (ids[r] >= 0) continue;
    const int64_t j = -static_cast<int64_t>(ids[r]) - 1;
    if (j >= num_prev)
      return InvalidArgumentError("FillPlaceholderIds: row " + std::to_string(r) +
                                  " refers to sampled id " + std::to_string(j) + " of " +
                                  std::to_string(num_prev));
    ids[r] = prev_ids[j];
  }
  return OkStatus();
}

}  // namespace pagellm::cpu

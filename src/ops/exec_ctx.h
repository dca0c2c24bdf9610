// ExecCtx: where and how an op runs. Passed to every op; holds no model state.
#pragma once

#include "tensor/device.h"

namespace pagellm {

struct ExecCtx {
  Device device = Device::Cpu();
  void* stream = nullptr;  // cudaStream_t on CUDA; unused on CPU
  int num_threads = 0;     // CPU: 0 = OpenMP default
  static ExecCtx Cpu() { return ExecCtx{}; }
};

}  // namespace pagellm

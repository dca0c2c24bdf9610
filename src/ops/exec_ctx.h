// ExecCtx: where and how an op runs. Passed to every op; holds no model state.
#pragma once

#include "tensor/device.h"

namespace pagellm {

struct ExecCtx {
  Device device = Device::Cpu();
  void* stream = nullptr;  // cudaStream_t on CUDA; unused on CPU
  int num_threads = 0;     // CPU: 0 = OpenMP default
  // CPU: every row's result is bitwise independent of batch size/composition and thread count
  // (Linear uses a fixed-order dot kernel instead of OpenBLAS; other CPU ops always are).
  bool batch_invariant = false;
  static ExecCtx Cpu() { return ExecCtx{}; }
};

}  // namespace pagellm

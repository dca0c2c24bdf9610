// NCCL communicator (CUDA builds with NCCL). `host` (usually MPI) bootstraps the NCCL id and
// carries host-side messages.
#pragma once

#include "dist/communicator.h"

namespace pagellm {
StatusOr<std::unique_ptr<Communicator>> MakeNcclCommunicator(std::unique_ptr<Communicator> host,
                                                             int device_index);
}  // namespace pagellm

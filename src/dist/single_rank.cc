#include <cstdlib>

#include "dist/communicator.h"

namespace pagellm {
namespace {

class SingleRankCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string name() const override { return "single"; }
  Status AllReduce(Tensor&, ReduceOp) override { return OkStatus(); }
  Status AllGather(const Tensor& in, Tensor& out) override {
    if (in.nbytes() != out.nbytes()) return InvalidArgumentError("AllGather: size mismatch");
    if (in.data() != out.data()) std::memcpy(out.data(), in.data(), in.nbytes());
    return OkStatus();
  }
  Status Broadcast(Tensor&, int) override { return OkStatus(); }
  Status BroadcastBytes(std::string&, int) override { return OkStatus(); }
  Status Barrier() override { return OkStatus(); }
};

}  // namespace

std::unique_ptr<Communicator> MakeSingleRankCommunicator() {
  return std::make_unique<SingleRankCommunicator>();
}

bool LaunchedUnderMpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr ||
         std::getenv("PMIX_RANK") != nullptr;
}

}  // namespace pagellm

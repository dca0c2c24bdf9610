#include "tensor/buffer.h"

#include <cstdlib>
#include <mutex>

namespace pagellm {
namespace {

class CpuAllocatorImpl final : public Allocator {
 public:
  StatusOr<std::shared_ptr<Buffer>> Allocate(size_t bytes) override {
    size_t rounded = (bytes + 63) / 64 * 64;
    void* p = rounded ? std::aligned_alloc(64, rounded) : nullptr;
    if (rounded && !p) {
      return ResourceExhaustedError("host allocation of " + std::to_string(bytes) + " bytes failed");
    }
    return std::make_shared<Buffer>(p, bytes, Device::Cpu(), [](void* q) { std::free(q); });
  }
  Device device() const override { return Device::Cpu(); }
};

Allocator* (*g_cuda_factory)(int) = nullptr;

}  // namespace

Allocator& CpuAllocator() {
  static CpuAllocatorImpl a;
  return a;
}

void RegisterCudaAllocatorFactory(Allocator* (*factory)(int)) { g_cuda_factory = factory; }

Allocator* GetAllocator(Device device) {
  if (device.is_cpu()) return &CpuAllocator();
  return g_cuda_factory ? g_cuda_factory(device.index) : nullptr;
}

std::string Device::ToString() const {
  return is_cpu() ? "cpu" : "cuda:" + std::to_string(index);
}

StatusOr<Device> ParseDevice(const std::string& s) {
  if (s == "cpu") return Device::Cpu();
  if (s == "cuda") return Device::Cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    try {
      return Device::Cuda(std::stoi(s.substr(5)));
    } catch (...) {
    }
  }
  return InvalidArgumentError("unknown device '" + s + "' (expected cpu, cuda or cuda:N)");
}

}  // namespace pagellm

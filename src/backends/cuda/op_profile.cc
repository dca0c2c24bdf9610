#include "backends/cuda/op_profile.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/logging.h"

namespace pagellm::cuda {
namespace {

struct Pending {
  cudaEvent_t start, stop;
  std::string key;
};

struct Total {
  double ms = 0;
  int64_t calls = 0;
};

class OpProfiler {
 public:
  static OpProfiler& Get() {
    static OpProfiler p;
    return p;
  }
  bool enabled() const { return enabled_; }

  int64_t Begin(cudaStream_t stream) {
    cudaStreamCaptureStatus cs = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(stream, &cs) != cudaSuccess || cs != cudaStreamCaptureStatusNone)
      return -1;
    if (pending_.size() >= kMaxPending) Harvest();
    Pending p{Take(), Take(), {}};
    cudaEventRecord(p.start, stream);
    pending_.push_back(std::move(p));
    return static_cast<int64_t>(pending_.size()) - 1;
  }

  void End(cudaStream_t stream, int64_t h, const char* op, int64_t d0, int64_t d1) {
    if (h < 0 || h >= static_cast<int64_t>(pending_.size())) return;
    Pending& p = pending_[static_cast<size_t>(h)];
    p.key = d0 >= 0 ? fmt::format("{}[{}x{}]", op, d0, d1) : std::string(op);
    cudaEventRecord(p.stop, stream);
  }

  void Report() {
    Harvest();
    std::vector<std::pair<std::string, Total>> rows(totals_.begin(), totals_.end());
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.second.ms > b.second.ms; });
    double all = 0;
    for (const auto& r : rows) all += r.second.ms;
    for (const auto& [key, t] : rows)
      LOG_INFO("op {:<40} {:10.1f} ms {:5.1f} % {:9d} calls {:9.1f} us/call", key, t.ms,
               all > 0 ? 100.0 * t.ms / all : 0.0, t.calls,
               t.calls ? 1e3 * t.ms / static_cast<double>(t.calls) : 0.0);
    LOG_INFO("op total {:10.1f} ms of GPU time in timed ops", all);
    totals_.clear();
  }

 private:
  static constexpr size_t kMaxPending = 4096;
  OpProfiler() {
    const char* env = std::getenv("PAGELLM_PROFILE_OPS");
    enabled_ = env != nullptr && env[0] != '\0' && std::strcmp(env, "0") != 0;
  }
  cudaEvent_t Take() {
    if (!free_.empty()) {
      cudaEvent_t e = free_.back();
      free_.pop_back();
      return e;
    }
    cudaEvent_t e = nullptr;
    cudaEventCreate(&e);
    return e;
  }
  // Waits for every recorded pair and folds it into the totals.
  void Harvest() {
    for (Pending& p : pending_) {
      float ms = 0;
      if (!p.key.empty() && cudaEventSynchronize(p.stop) == cudaSuccess &&
          cudaEventElapsedTime(&ms, p.start, p.stop) == cudaSuccess) {
        Total& t = totals_[p.key];
        t.ms += ms;
        ++t.calls;
      }
      free_.push_back(p.start);
      free_.push_back(p.stop);
    }
    pending_.clear();
  }

  bool enabled_ = false;
  std::vector<Pending> pending_;
  std::vector<cudaEvent_t> free_;
  std::map<std::string, Total> totals_;
};

}  // namespace

bool OpProfileEnabled() { return OpProfiler::Get().enabled(); }

int64_t OpProfileBegin(const ExecCtx& ctx) {
  return OpProfiler::Get().Begin(static_cast<cudaStream_t>(ctx.stream));
}

void OpProfileEnd(const ExecCtx& ctx, int64_t handle, const char* op, int64_t dim0, int64_t dim1) {
  OpProfiler::Get().End(static_cast<cudaStream_t>(ctx.stream), handle, op, dim0, dim1);
}

void OpProfileReport() {
  if (OpProfileEnabled()) OpProfiler::Get().Report();
}

}  // namespace pagellm::cuda

// MPI communicator for host tensors. Collectives are non-blocking and polled against a deadline
// so that a dead or hung rank becomes a DeadlineExceeded error rather than a hang.
#include <mpi.h>

#include <thread>
#include <vector>

#include "base/logging.h"
#include "dist/communicator.h"

namespace pagellm {
namespace {

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(int rank, int size) : rank_(rank), size_(size) {}
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    if (broken_ && !DrainPending(std::chrono::seconds(2))) {
      // A peer never arrived: finalizing would hang, so tear the whole job down.
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  std::string name() const override { return "mpi"; }

  Status AllReduce(Tensor& t, ReduceOp op) override {
    RETURN_IF_ERROR(CheckHost(t, "AllReduce"));
    MPI_Op mop = op == ReduceOp::kSum ? MPI_SUM : MPI_MAX;
    if (t.dtype() == DType::kF32) {
      return Run("AllReduce", [&](MPI_Request* r) {
        return MPI_Iallreduce(MPI_IN_PLACE, t.data(), static_cast<int>(t.numel()), MPI_FLOAT, mop,
                              MPI_COMM_WORLD, r);
      });
    }
    if (t.dtype() != DType::kF16 && t.dtype() != DType::kBF16) {
      return InvalidArgumentError("AllReduce: unsupported dtype " + std::string(DTypeName(t.dtype())));
    }
    // MPI has no 16-bit float types: reduce in f32 (also more accurate), then round once.
    std::vector<float> tmp(static_cast<size_t>(t.numel()));
    ConvertBuffer(t.data(), t.dtype(), tmp.data(), DType::kF32, tmp.size());
    RETURN_IF_ERROR(Run("AllReduce", [&](MPI_Request* r) {
      return MPI_Iallreduce(MPI_IN_PLACE, tmp.data(), static_cast<int>(tmp.size()), MPI_FLOAT, mop,
                            MPI_COMM_WORLD, r);
    }));
    ConvertBuffer(tmp.data(), DType::kF32, t.data(), t.dtype(), tmp.size());
    return OkStatus();
  }

  Status AllGather(const Tensor& in, Tensor& out) override {
    RETURN_IF_ERROR(CheckHost(in, "AllGather"));
    RETURN_IF_ERROR(CheckHost(out, "AllGather"));
    if (out.nbytes() != in.nbytes() * size_ || in.dtype() != out.dtype()) {
      return InvalidArgumentError("AllGather: out must hold world_size copies of in");
    }
    return Run("AllGather", [&](MPI_Request* r) {
      return MPI_Iallgather(in.data(), static_cast<int>(in.nbytes()), MPI_BYTE, out.data(),
                            static_cast<int>(in.nbytes()), MPI_BYTE, MPI_COMM_WORLD, r);
    });
  }

  Status Broadcast(Tensor& t, int root) override {
    RETURN_IF_ERROR(CheckHost(t, "Broadcast"));
    return Run("Broadcast", [&](MPI_Request* r) {
      return MPI_Ibcast(t.data(), static_cast<int>(t.nbytes()), MPI_BYTE, root, MPI_COMM_WORLD, r);
    });
  }

  Status BroadcastBytes(std::string& bytes, int root) override {
    int64_t n = static_cast<int64_t>(bytes.size());
    RETURN_IF_ERROR(Run("BroadcastBytes", [&](MPI_Request* r) {
      return MPI_Ibcast(&n, 1, MPI_INT64_T, root, MPI_COMM_WORLD, r);
    }));
    if (rank_ != root) bytes.resize(static_cast<size_t>(n));
    if (n == 0) return OkStatus();
    return Run("BroadcastBytes", [&](MPI_Request* r) {
      return MPI_Ibcast(bytes.data(), static_cast<int>(n), MPI_BYTE, root, MPI_COMM_WORLD, r);
    });
  }

  Status Barrier() override {
    return Run("Barrier", [&](MPI_Request* r) { return MPI_Ibarrier(MPI_COMM_WORLD, r); });
  }

 private:
  Status CheckHost(const Tensor& t, const char* op) const {
    if (!t.device().is_cpu()) {
      return InvalidArgumentError(std::string(op) + ": the MPI communicator moves host tensors only");
    }
    if (!t.is_contiguous()) return InvalidArgumentError(std::string(op) + ": tensor not contiguous");
    return OkStatus();
  }

  // Starts a non-blocking collective and polls it until done or the deadline passes.
  template <typename Start>
  Status Run(const char* op, Start start) {
    if (broken_) return UnavailableError(std::string(op) + ": communicator failed earlier");
    MPI_Request req;
    if (start(&req) != MPI_SUCCESS) return InternalError(std::string(op) + ": MPI call failed");
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    int done = 0;
    int spins = 0;
    while (true) {
      if (MPI_Test(&req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        broken_ = true;
        return InternalError(std::string(op) + ": MPI_Test failed");
      }
      if (done) return OkStatus();
      if (std::chrono::steady_clock::now() > deadline) {
        broken_ = true;
        pending_ = req;
        return DeadlineExceededError(std::string(op) + " timed out after " +
                                     std::to_string(timeout_.count()) +
                                     " ms: a tensor-parallel peer died or hangs");
      }
      if (++spins > 1000) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  // Waits for a collective that timed out earlier (a late peer), so MPI can finalize cleanly.
  bool DrainPending(std::chrono::milliseconds limit) {
    if (pending_ == MPI_REQUEST_NULL) return true;
    auto deadline = std::chrono::steady_clock::now() + limit;
    int done = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (MPI_Test(&pending_, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return false;
      if (done) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

  int rank_;
  int size_;
  bool broken_ = false;
  MPI_Request pending_ = MPI_REQUEST_NULL;
};

}  // namespace

StatusOr<std::unique_ptr<Communicator>> MakeMpiCommunicator() {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
      return UnavailableError("MPI_Init_thread failed");
    }
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return std::unique_ptr<Communicator>(std::make_unique<MpiCommunicator>(rank, size));
}

}  // namespace pagellm

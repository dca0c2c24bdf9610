// NCCL communicator for CUDA tensors. MPI bootstraps it (rank 0 makes the unique id and
// broadcasts it); NCCL moves the tensors. Each collective is enqueued on the communicator's
// stream and then polled against the deadline, so a dead peer gives DeadlineExceeded (and the
// NCCL communicator is aborted) instead of a hang.
#include <cuda_runtime.h>
#include <nccl.h>

#include <thread>

#include "dist/communicator.h"
#include "dist/nccl_communicator.h"

namespace pagellm {
namespace {

StatusOr<ncclDataType_t> NcclType(DType t) {
  switch (t) {
    case DType::kF32: return ncclFloat32;
    case DType::kF16: return ncclFloat16;
    case DType::kBF16: return ncclBfloat16;
    case DType::kI32: return ncclInt32;
    case DType::kI64: return ncclInt64;
    case DType::kU8: case DType::kI8: return ncclUint8;
    default: return InvalidArgumentError("NCCL: unsupported dtype " + std::string(DTypeName(t)));
  }
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(ncclComm_t comm, cudaStream_t stream, std::unique_ptr<Communicator> host)
      : comm_(comm), stream_(stream), host_(std::move(host)) {}
  ~NcclCommunicator() override {
    if (broken_) {
      ncclCommAbort(comm_);
    } else {
      ncclCommDestroy(comm_);
    }
    cudaStreamDestroy(stream_);
  }
  int rank() const override { return host_->rank(); }
  int world_size() const override { return host_->world_size(); }
  std::string name() const override { return "nccl"; }

  Status AllReduce(Tensor& t, ReduceOp op) override {
    RETURN_IF_ERROR(CheckCuda(t, "AllReduce"));
    ASSIGN_OR_RETURN(ncclDataType_t dt, NcclType(t.dtype()));
    ncclRedOp_t nop = op == ReduceOp::kSum ? ncclSum : ncclMax;
    return Run("AllReduce", ncclAllReduce(t.data(), t.data(), t.numel(), dt, nop, comm_, stream_));
  }
  Status AllGather(const Tensor& in, Tensor& out) override {
    RETURN_IF_ERROR(CheckCuda(in, "AllGather"));
    RETURN_IF_ERROR(CheckCuda(out, "AllGather"));
    if (out.nbytes() != in.nbytes() * world_size()) {
      return InvalidArgumentError("AllGather: out must hold world_size copies of in");
    }
    return Run("AllGather",
               ncclAllGather(in.data(), out.data(), in.nbytes(), ncclUint8, comm_, stream_));
  }
  Status Broadcast(Tensor& t, int root) override {
    RETURN_IF_ERROR(CheckCuda(t, "Broadcast"));
    return Run("Broadcast",
               ncclBroadcast(t.data(), t.data(), t.nbytes(), ncclUint8, root, comm_, stream_));
  }
  // Step messages are host data: they travel over the MPI communicator.
  Status BroadcastBytes(std::string& bytes, int root) override {
    return host_->BroadcastBytes(bytes, root);
  }
  Status Barrier() override { return host_->Barrier(); }

 private:
  Status CheckCuda(const Tensor& t, const char* op) const {
    if (!t.device().is_cuda()) return InvalidArgumentError(std::string(op) + ": NCCL needs CUDA tensors");
    if (!t.is_contiguous()) return InvalidArgumentError(std::string(op) + ": tensor not contiguous");
    return OkStatus();
  }

  Status Run(const char* op, ncclResult_t enqueued) {
    if (broken_) return UnavailableError(std::string(op) + ": communicator failed earlier");
    if (enqueued != ncclSuccess) {
      return InternalError(std::string(op) + ": " + ncclGetErrorString(enqueued));
    }
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (true) {
      cudaError_t q = cudaStreamQuery(stream_);
      if (q == cudaSuccess) return OkStatus();
      if (q != cudaErrorNotReady) return InternalError(std::string(op) + ": " + cudaGetErrorString(q));
      ncclResult_t async_err = ncclSuccess;
      ncclCommGetAsyncError(comm_, &async_err);
      if (async_err != ncclSuccess && async_err != ncclInProgress) {
        broken_ = true;
        return InternalError(std::string(op) + ": " + ncclGetErrorString(async_err));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        broken_ = true;
        return DeadlineExceededError(std::string(op) + " timed out after " +
                                     std::to_string(timeout_.count()) +
                                     " ms: a tensor-parallel peer died or hangs");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  ncclComm_t comm_;
  cudaStream_t stream_;
  std::unique_ptr<Communicator> host_;
  bool broken_ = false;
};

}  // namespace

StatusOr<std::unique_ptr<Communicator>> MakeNcclCommunicator(std::unique_ptr<Communicator> host,
                                                             int device_index) {
  if (cudaSetDevice(device_index) != cudaSuccess) {
    return UnavailableError("NCCL: cannot use CUDA device " + std::to_string(device_index));
  }
  ncclUniqueId id;
  std::string blob;
  if (host->rank() == 0) {
    if (ncclGetUniqueId(&id) != ncclSuccess) return UnavailableError("ncclGetUniqueId failed");
    blob.assign(reinterpret_cast<const char*>(&id), sizeof(id));
  }
  RETURN_IF_ERROR(host->BroadcastBytes(blob, 0));
  if (blob.size() != sizeof(id)) return InternalError("NCCL: bad unique id from rank 0");
  std::memcpy(&id, blob.data(), sizeof(id));
  ncclComm_t comm;
  ncclResult_t r = ncclCommInitRank(&comm, host->world_size(), id, host->rank());
  if (r != ncclSuccess) return UnavailableError(std::string("ncclCommInitRank: ") + ncclGetErrorString(r));
  cudaStream_t stream;
  if (cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess) {
    ncclCommDestroy(comm);
    return UnavailableError("NCCL: cannot create a CUDA stream");
  }
  return std::unique_ptr<Communicator>(
      std::make_unique<NcclCommunicator>(comm, stream, std::move(host)));
}

}  // namespace pagellm

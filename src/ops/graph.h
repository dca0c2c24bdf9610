// Device streams and captured graphs behind the op interface, so the runner can replay a whole
// forward pass with one launch (CUDA graphs) without naming a backend. On the CPU there is no
// stream and capture is unsupported; callers fall back to running eagerly.
#pragma once

#include <functional>
#include <memory>

#include "base/status.h"
#include "ops/exec_ctx.h"

namespace pagellm::ops {

// A stream of one device, owned (destroyed with the object). CPU devices get a null handle.
class Stream {
 public:
  static StatusOr<std::unique_ptr<Stream>> Create(Device device);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  void* handle() const { return handle_; }

 private:
  Stream(Device device, void* handle) : device_(device), handle_(handle) {}
  Device device_;
  void* handle_;
};

// Waits until the work enqueued on ctx.stream is done (CPU: no-op).
Status Synchronize(const ExecCtx& ctx);

class Graph {
 public:
  virtual ~Graph() = default;
  // Enqueues the captured work on ctx.stream, reading and writing the same buffers as at capture.
  virtual Status Replay(const ExecCtx& ctx) = 0;
};

// True when CaptureGraph can work for ctx (a CUDA device and a stream from Stream::Create).
bool GraphCaptureSupported(const ExecCtx& ctx);
// Records what `body` enqueues on ctx.stream without running it. Buffers `body` allocates stay
// reserved for graphs. REQUIRES: body enqueues only device work on ctx.stream (no host copies
// from pageable memory, no synchronisation); it ran once eagerly with the same shapes before.
StatusOr<std::unique_ptr<Graph>> CaptureGraph(const ExecCtx& ctx,
                                              const std::function<Status()>& body);

// While alive, ops with several implementations (cuBLASLt algorithms for Linear on CUDA) time
// the candidates the first time they see a shape and keep the fastest for every later call of
// that shape. For warm-up: tune each shape eagerly before graphs capture it. CPU: no effect.
// Not nestable.
class AutotuneScope {
 public:
  explicit AutotuneScope(const ExecCtx& ctx);
  ~AutotuneScope();
  AutotuneScope(const AutotuneScope&) = delete;
  AutotuneScope& operator=(const AutotuneScope&) = delete;

 private:
  bool cuda_;
};

}  // namespace pagellm::ops

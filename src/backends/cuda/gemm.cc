// Linear through cuBLASLt: y[T, out] = x[T, in] @ w[out, in]^T (+ bias); rows of x and y may
// be strided (ldx, ldy).
// Row-major y is column-major y^T [out, T] = w_cm^T [out, in] * x_cm [in, T], where w_cm is the
// weight buffer read column-major as [in, out] (transa = T) and x_cm is x read as [in, T].
// All float types accumulate in f32 (CUBLAS_COMPUTE_32F; f32 never uses TF32).
#include <cublasLt.h>
#include <cublas_v2.h>
#include <fmt/format.h>

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/graph.h"

namespace pagellm::cuda {
namespace {

constexpr const char* kOp = "cuda::Linear";
constexpr size_t kWorkspaceBytes = size_t{32} << 20;
constexpr int kTuneCandidates = 8;  // heuristic results timed per shape when autotuning
constexpr int kTuneReps = 3;

std::atomic<bool> g_autotune{false};

Status LtStatus(cublasStatus_t st, const char* what) {
  if (st == CUBLAS_STATUS_SUCCESS) return OkStatus();
  return InternalError(fmt::format("{}: {}: {} ({})", kOp, what, cublasLtGetStatusName(st),
                                   cublasLtGetStatusString(st)));
}
#define LT_RETURN_IF_ERROR(expr) RETURN_IF_ERROR(LtStatus((expr), #expr))

cudaDataType_t LtType(DType t) {
  return t == DType::kF32 ? CUDA_R_32F : t == DType::kF16 ? CUDA_R_16F : CUDA_R_16BF;
}

uint32_t Alignment(const void* p) {
  uint32_t a = 16;
  while (a > 1 && reinterpret_cast<uintptr_t>(p) % a) a /= 2;
  return a;
}

using AlgoKey = std::tuple<int64_t, int64_t, int64_t, int, bool, uint32_t, uint32_t, uint32_t,
                           uint32_t, int64_t, int64_t>;

// Per-device cuBLASLt handle, per-stream workspaces and a heuristic cache.
struct LtDevice {
  std::mutex mu;
  cublasLtHandle_t handle = nullptr;
  cublasHandle_t blas = nullptr;  // fallback for layouts cuBLASLt declines
  std::map<cudaStream_t, Tensor> workspaces;
  std::map<AlgoKey, cublasLtMatmulAlgo_t> algos;
  std::set<AlgoKey> no_algo;  // layouts cuBLASLt declined: go straight to cuBLAS
};

LtDevice& DeviceState(int index) {
  static std::mutex mu;
  static std::map<int, LtDevice*> all;
  std::lock_guard<std::mutex> lock(mu);
  LtDevice*& d = all[index];
  if (!d) d = new LtDevice;  // never freed: lives for the process
  return *d;
}

// RAII for the per-call descriptors.
struct Descs {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~Descs() {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

// cuBLAS view: m = out features, n = tokens, k = in features; lda = k, ldb = ldx, ldc = ldy.
Status MakeDescs(DType dt, DType yt, int64_t m, int64_t n, int64_t k, int64_t ldx, int64_t ldy,
                 const void* bias, Descs& d) {
  LT_RETURN_IF_ERROR(cublasLtMatmulDescCreate(&d.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  LT_RETURN_IF_ERROR(
      cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  LT_RETURN_IF_ERROR(
      cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  if (bias) {
    const cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    LT_RETURN_IF_ERROR(
        cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
    LT_RETURN_IF_ERROR(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                      &bias, sizeof(bias)));
  }
  const cudaDataType_t t = LtType(dt);
  LT_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(&d.a, t, k, m, k));
  LT_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(&d.b, t, k, n, ldx));
  LT_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(&d.c, LtType(yt), m, n, ldy));
  return OkStatus();
}

// Milliseconds one matmul with `algo` takes (median-free: the minimum of kTuneReps after a
// warm-up run), or a negative value when the algorithm fails to run.
using TimeAlgo = std::function<float(const cublasLtMatmulAlgo_t&)>;

// The fastest of the candidates by `time` (the first, the heuristic's choice, on ties).
int PickFastest(const cublasLtMatmulHeuristicResult_t* results, int found, const TimeAlgo& time) {
  int best = 0;
  float best_ms = std::numeric_limits<float>::infinity();
  for (int i = 0; i < found; ++i) {
    if (results[i].state != CUBLAS_STATUS_SUCCESS) continue;
    const float ms = time(results[i].algo);
    if (ms >= 0 && ms < best_ms * 0.98f) best = i, best_ms = ms;
  }
  return best;
}

Status FindAlgo(LtDevice& dev, const AlgoKey& key, Descs& d, const uint32_t (&align)[4],
                const TimeAlgo* time, cublasLtMatmulAlgo_t* algo) {
  auto it = dev.algos.find(key);
  if (it != dev.algos.end()) {
    *algo = it->second;
    return OkStatus();
  }
  if (dev.no_algo.count(key))
    return UnimplementedError(fmt::format("{}: cuBLASLt found no algorithm", kOp));
  LT_RETURN_IF_ERROR(cublasLtMatmulPreferenceCreate(&d.pref));
  const size_t ws = kWorkspaceBytes;
  LT_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
      d.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
  const cublasLtMatmulPreferenceAttributes_t attrs[4] = {
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
  for (int i = 0; i < 4; ++i)
    LT_RETURN_IF_ERROR(
        cublasLtMatmulPreferenceSetAttribute(d.pref, attrs[i], &align[i], sizeof(align[i])));
  cublasLtMatmulHeuristicResult_t results[kTuneCandidates] = {};
  int found = 0;
  const cublasStatus_t hs = cublasLtMatmulAlgoGetHeuristic(
      dev.handle, d.op, d.a, d.b, d.c, d.c, d.pref, time ? kTuneCandidates : 1, results, &found);
  if (hs == CUBLAS_STATUS_NOT_SUPPORTED || (hs == CUBLAS_STATUS_SUCCESS && found < 1)) {
    dev.no_algo.insert(key);
    return UnimplementedError(fmt::format("{}: cuBLASLt found no algorithm", kOp));
  }
  RETURN_IF_ERROR(LtStatus(hs, "cublasLtMatmulAlgoGetHeuristic"));
  const int pick = time && found > 1 ? PickFastest(results, found, *time) : 0;
  dev.algos.emplace(key, results[pick].algo);
  *algo = results[pick].algo;
  return OkStatus();
}

// Minimum over kTuneReps of one `run` on `stream` (after one untimed run), in ms; -1 when a run
// fails. Synchronises the stream.
float TimeMatmul(cudaStream_t stream, const std::function<cublasStatus_t()>& run) {
  if (run() != CUBLAS_STATUS_SUCCESS) return -1.f;
  cudaEvent_t start = nullptr, stop = nullptr;
  if (cudaEventCreate(&start) != cudaSuccess || cudaEventCreate(&stop) != cudaSuccess) return -1.f;
  float best = -1.f;
  for (int r = 0; r < kTuneReps; ++r) {
    cudaEventRecord(start, stream);
    const cublasStatus_t st = run();
    cudaEventRecord(stop, stream);
    float ms = 0;
    if (st != CUBLAS_STATUS_SUCCESS || cudaEventSynchronize(stop) != cudaSuccess ||
        cudaEventElapsedTime(&ms, start, stop) != cudaSuccess) {
      best = -1.f;
      break;
    }
    if (best < 0 || ms < best) best = ms;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return best;
}

// y[n, m] += bias[m] (bias of any float dtype): convert it to y's dtype, then a pointwise add
// whose b operand has row stride 0 (a broadcast row).
Status AddBias(const ExecCtx& ctx, const void* bias, DType bias_dtype, void* y, DType y_dtype,
               int64_t ldy, int64_t n, int64_t m) {
  cudaStream_t stream = StreamOf(ctx);
  ASSIGN_OR_RETURN(Tensor b, Scratch(kOp, ctx, m, y_dtype));
  kernels::StridedCopyArgs c;
  c.rank = 1;
  c.shape[0] = m;
  c.src_stride[0] = c.dst_stride[0] = 1;
  c.src = bias;
  c.dst = b.data();
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, kernels::StridedCopy(bias_dtype, y_dtype, c, stream));
  kernels::PointwiseArgs p;
  p.op = kernels::PointwiseOp::kAdd;
  p.a = {y, ldy};
  p.b = {b.data(), 0};
  p.out = y;
  p.out_stride = ldy;
  p.rows = n;
  p.cols = m;
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, kernels::Pointwise(y_dtype, p, stream));
  return OkStatus();
}

struct GemmArgs {
  const void *x, *w, *bias;  // bias: only when the epilogue adds it (same dtype as y)
  void* y;
  DType dt, yt;
  int64_t m, n, k, ldx, ldy;
};

// cuBLASLt matmul; Unimplemented when it has no algorithm for this layout.
Status LtGemm(const ExecCtx& ctx, LtDevice& dev, const GemmArgs& g) {
  cudaStream_t stream = StreamOf(ctx);
  if (!dev.handle) LT_RETURN_IF_ERROR(cublasLtCreate(&dev.handle));
  auto ws_it = dev.workspaces.find(stream);
  if (ws_it == dev.workspaces.end()) {
    ASSIGN_OR_RETURN(Tensor ws,
                     Scratch(kOp, ctx, static_cast<int64_t>(kWorkspaceBytes), DType::kU8));
    ws_it = dev.workspaces.emplace(stream, std::move(ws)).first;
  }
  Descs d;
  RETURN_IF_ERROR(MakeDescs(g.dt, g.yt, g.m, g.n, g.k, g.ldx, g.ldy, g.bias, d));
  const uint32_t align[4] = {Alignment(g.w), Alignment(g.x), Alignment(g.y), Alignment(g.y)};
  const int types = static_cast<int>(g.dt) * 16 + static_cast<int>(g.yt);
  const AlgoKey key{g.m,
                    g.n,
                    g.k,
                    types,
                    g.bias != nullptr,
                    align[0],
                    align[1],
                    align[2],
                    g.bias ? Alignment(g.bias) : 0u,
                    g.ldx,
                    g.ldy};
  const float alpha = 1.f, beta = 0.f;
  // Timing runs write y (overwritten by the real call below) and only happen outside capture.
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  const bool tune = g_autotune.load(std::memory_order_relaxed) &&
                    cudaStreamIsCapturing(stream, &capture) == cudaSuccess &&
                    capture == cudaStreamCaptureStatusNone;
  auto matmul = [&](const cublasLtMatmulAlgo_t& a) {
    return cublasLtMatmul(dev.handle, d.op, &alpha, g.w, d.a, g.x, d.b, &beta, g.y, d.c, g.y, d.c,
                          &a, ws_it->second.data(), kWorkspaceBytes, stream);
  };
  cublasLtMatmulAlgo_t algo;
  if (tune) {  // the timing closure only where it is used: every eager GEMM passes here
    const TimeAlgo time = [&](const cublasLtMatmulAlgo_t& a) {
      return TimeMatmul(stream, [&] { return matmul(a); });
    };
    RETURN_IF_ERROR(FindAlgo(dev, key, d, align, &time, &algo));
  } else {
    RETURN_IF_ERROR(FindAlgo(dev, key, d, align, nullptr, &algo));
  }
  const cublasStatus_t st = matmul(algo);
  if (st == CUBLAS_STATUS_NOT_SUPPORTED)
    return UnimplementedError(fmt::format("{}: cuBLASLt: layout not supported", kOp));
  return LtStatus(st, "cublasLtMatmul");
}

// Classic cuBLAS, for layouts cuBLASLt declines (e.g. rows that are not 4-byte aligned).
Status BlasGemm(const ExecCtx& ctx, LtDevice& dev, const GemmArgs& g) {
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  if (g.m > kMax || g.n > kMax || g.k > kMax || g.ldx > kMax || g.ldy > kMax)
    return UnimplementedError(fmt::format("{}: sizes beyond int for cublasGemmEx", kOp));
  if (!dev.blas) LT_RETURN_IF_ERROR(cublasCreate(&dev.blas));
  LT_RETURN_IF_ERROR(cublasSetStream(dev.blas, StreamOf(ctx)));
  const float alpha = 1.f, beta = 0.f;
  LT_RETURN_IF_ERROR(
      cublasGemmEx(dev.blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(g.m), static_cast<int>(g.n),
                   static_cast<int>(g.k), &alpha, g.w, LtType(g.dt), static_cast<int>(g.k), g.x,
                   LtType(g.dt), static_cast<int>(g.ldx), &beta, g.y, LtType(g.yt),
                   static_cast<int>(g.ldy), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  return OkStatus();
}

}  // namespace

void SetGemmAutotune(bool on) { g_autotune.store(on, std::memory_order_relaxed); }

Status Linear(const ExecCtx& ctx, const void* x, DType x_dtype, int64_t ldx, const void* w,
              DType w_dtype, const void* bias, DType bias_dtype, void* y, DType y_dtype,
              int64_t ldy, int64_t tokens, int64_t out_features, int64_t in_features) {
  RETURN_IF_ERROR(CheckOneDType(kOp, {x_dtype, w_dtype}));
  // y is x's dtype, or f32 (e.g. logits); both accumulate in f32.
  if (y_dtype != x_dtype && y_dtype != DType::kF32)
    return UnimplementedError(fmt::format("{}: y must be {} or float32, got {}", kOp,
                                          DTypeName(x_dtype), DTypeName(y_dtype)));
  if (bias) RETURN_IF_ERROR(CheckFloat(kOp, bias_dtype, "bias"));
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  const int64_t m = out_features, n = tokens, k = in_features;
  if (m == 0 || n == 0) return OkStatus();
  if (k == 0) return UnimplementedError(fmt::format("{}: in_features == 0", kOp));
  if (n == 1) ldx = k, ldy = m;  // a single row: its stride is irrelevant
  if (ldx < k || ldy < m)
    return InvalidArgumentError(
        fmt::format("{}: row strides {} / {} below widths {} / {}", kOp, ldx, ldy, k, m));
  // The epilogue adds a bias of y's dtype; any other bias is added by a separate pass.
  GemmArgs g{x,   w,  bias && bias_dtype == y_dtype ? bias : nullptr, y, x_dtype, y_dtype, m, n, k,
             ldx, ldy};
  if (kernels::GemvSupported(x_dtype, y_dtype, n, k, ldx, x, w)) {
    kernels::GemvArgs a;
    a.x = x;
    a.w = w;
    a.bias = g.bias;
    a.y = y;
    a.tokens = n;
    a.m = m;
    a.k = k;
    a.ldx = ldx;
    a.ldy = ldy;
    PAGELLM_CUDA_RETURN_IF_ERROR(kOp, kernels::Gemv(x_dtype, y_dtype, a, StreamOf(ctx)));
    if (bias && !g.bias) return AddBias(ctx, bias, bias_dtype, y, y_dtype, ldy, n, m);
    return OkStatus();
  }
  LtDevice& dev = DeviceState(ctx.device.index);
  {
    std::lock_guard<std::mutex> lock(dev.mu);
    Status st = LtGemm(ctx, dev, g);
    if (st.code() == StatusCode::kUnimplemented) {
      g.bias = nullptr;
      st = BlasGemm(ctx, dev, g);
    }
    RETURN_IF_ERROR(st);
  }
  if (bias && !g.bias) return AddBias(ctx, bias, bias_dtype, y, y_dtype, ldy, n, m);
  return OkStatus();
}

}  // namespace pagellm::cuda

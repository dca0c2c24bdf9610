// Embedding, GatherRows and Copy: row gathers and strided copies with dtype conversion.
#include <cstring>
#include <string>

#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

namespace pagellm::cpu {
namespace {

using internal::LoadRow;
using internal::StoreRow;

// Copies `width` contiguous elements, converting between float dtypes.
void CopyRow(const void* src, DType st, int64_t soff, void* dst, DType dt, int64_t doff,
             int64_t width) {
  if (st == dt) {
    size_t es = DTypeSize(st);
    std::memcpy(static_cast<char*>(dst) + doff * es, static_cast<const char*>(src) + soff * es,
                width * es);
    return;
  }
  float* buf = internal::Scratch(width);
  LoadRow(src, st, soff, width, buf);
  StoreRow(buf, width, dst, dt, doff);
}

Status GatherChecked(const ExecCtx& ctx, const char* what, const void* x, DType x_dtype,
                     int64_t ldx, int64_t num_src_rows, const int32_t* rows, int64_t num_rows,
                     int64_t width, void* out, DType out_dtype, int64_t ldo) {
  for (int64_t i = 0; i < num_rows; ++i) {
    if (rows[i] < 0 || rows[i] >= num_src_rows) {
      return InvalidArgumentError(std::string(what) + ": index " + std::to_string(rows[i]) +
                                  " at position " + std::to_string(i) + " outside [0, " +
                                  std::to_string(num_src_rows) + ")");
    }
  }
  int threads = internal::NumThreads(ctx.num_threads, num_rows * width);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < num_rows; ++i)
    CopyRow(x, x_dtype, rows[i] * ldx, out, out_dtype, i * ldo, width);
  return OkStatus();
}

}  // namespace

Status Embedding(const ExecCtx& ctx, const int32_t* ids, int64_t num_tokens, const void* table,
                 DType table_dtype, int64_t vocab, int64_t hidden, void* out, DType out_dtype,
                 int64_t ldo) {
  return GatherChecked(ctx, "Embedding: token id", table, table_dtype, hidden, vocab, ids,
                       num_tokens, hidden, out, out_dtype, ldo);
}

Status GatherRows(const ExecCtx& ctx, const void* x, DType x_dtype, int64_t ldx,
                  int64_t num_src_rows, const int32_t* rows, int64_t num_rows, int64_t width,
                  void* out, DType out_dtype, int64_t ldo) {
  return GatherChecked(ctx, "GatherRows: row", x, x_dtype, ldx, num_src_rows, rows, num_rows, width,
                       out, out_dtype, ldo);
}

Status Copy(const ExecCtx& ctx, const void* src, DType src_dtype, const int64_t* src_strides,
            Device src_device, void* dst, DType dst_dtype, const int64_t* dst_strides,
            Device dst_device, const int64_t* shape, int rank) {
  if (!src_device.is_cpu() || !dst_device.is_cpu())
    return UnavailableError("Copy: the CPU backend copies host<->host only");
  if (rank == 0) {
    CopyRow(src, src_dtype, 0, dst, dst_dtype, 0, 1);
    return OkStatus();
  }
  int64_t width = shape[rank - 1], outer = 1;
  for (int i = 0; i < rank - 1; ++i) outer *= shape[i];
  if (outer == 0 || width == 0) return OkStatus();
  bool unit = src_strides[rank - 1] == 1 && dst_strides[rank - 1] == 1;
  int threads = internal::NumThreads(ctx.num_threads, outer * width);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t o = 0; o < outer; ++o) {
    int64_t so = 0, dof = 0, rem = o;
    for (int i = rank - 2; i >= 0; --i) {
      int64_t idx = rem % shape[i];
      rem /= shape[i];
      so += idx * src_strides[i];
      dof += idx * dst_strides[i];
    }
    if (unit) {
      CopyRow(src, src_dtype, so, dst, dst_dtype, dof, width);
    } else {
      for (int64_t j = 0; j < width; ++j)
        CopyRow(src, src_dtype, so + j * src_strides[rank - 1], dst, dst_dtype,
                dof + j * dst_strides[rank - 1], 1);
    }
  }
  return OkStatus();
}

}  // namespace pagellm::cpu

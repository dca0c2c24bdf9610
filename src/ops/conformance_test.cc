// Conformance: every op on every available backend vs the CPU reference on the same inputs.
// Adding a backend = one line in Backends(). Inputs are made on the host, copied to the
// backend's device with ops::Copy, and results copied back.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "ops/op_test_util.h"
#include "ops/ops.h"
#include "ops/rope_table.h"

namespace pagellm::ops {
namespace {

using testing::RandomTensor;

struct Backend {
  std::string name;
  ExecCtx ctx;
};

std::vector<Backend> Backends() {
  std::vector<Backend> b = {{"cpu", ExecCtx::Cpu()}};
#if PAGELLM_HAVE_CUDA
  b.push_back({"cuda", ExecCtx{Device::Cuda(0)}});
#endif
  return b;
}

Tensor ToDevice(const ExecCtx& ctx, const Tensor& host) {
  if (ctx.device.is_cpu())
    return Tensor::FromVector(host.ToFloatVector(), host.shape(), host.dtype());
  auto t = Tensor::Empty(host.shape(), host.dtype(), ctx.device);
  CHECK(t.ok()) << t.status().ToString();
  CHECK_OK(Copy(ctx, host, *t));
  return *t;
}

Tensor IntsToDevice(const ExecCtx& ctx, const std::vector<int32_t>& v) {
  Tensor host = Tensor::FromInts(v);
  if (ctx.device.is_cpu()) return host;
  auto t = Tensor::Empty(host.shape(), DType::kI32, ctx.device);
  CHECK(t.ok());
  CHECK_OK(Copy(ctx, host, *t));
  return *t;
}

Tensor Zeros(const Shape& s) { return Tensor::FromVector(std::vector<float>(s.numel(), 0.f), s); }

Tensor ToHost(const ExecCtx& ctx, const Tensor& dev) {
  Tensor h = Tensor::EmptyHost(dev.shape(), dev.dtype());
  CHECK_OK(Copy(ctx, dev, h));
  return h;
}

// Runs `op` on the CPU and on the backend with identical inputs; compares the outputs.
// `op(ctx, inputs, outputs)` gets tensors already on ctx's device.
using OpFn = std::function<Status(const ExecCtx&, std::vector<Tensor>&, std::vector<Tensor>&)>;

void Compare(const Backend& be, std::vector<Tensor> host_in, std::vector<Tensor> host_out,
             const OpFn& op, double tol) {
  std::vector<Tensor> ref_in, ref_out, dev_in, dev_out;
  ExecCtx cpu;
  for (const Tensor& t : host_in) {
    ref_in.push_back(ToDevice(cpu, t));
    dev_in.push_back(ToDevice(be.ctx, t));
  }
  for (const Tensor& t : host_out) {
    ref_out.push_back(ToDevice(cpu, t));
    dev_out.push_back(ToDevice(be.ctx, t));
  }
  ASSERT_TRUE(op(cpu, ref_in, ref_out).ok());
  Status s = op(be.ctx, dev_in, dev_out);
  ASSERT_TRUE(s.ok()) << be.name << ": " << s.ToString();
  for (size_t i = 0; i < ref_out.size(); ++i) {
    std::vector<float> want = ref_out[i].ToFloatVector();
    testing::ExpectClose(std::vector<double>(want.begin(), want.end()), ToHost(be.ctx, dev_out[i]),
                         tol, 1e-3, be.name + " output " + std::to_string(i));
  }
}

class ConformanceTest : public ::testing::TestWithParam<Backend> {};

TEST_P(ConformanceTest, DenseOps) {
  const Backend& be = GetParam();
  for (DType t : {DType::kF32, DType::kBF16}) {
    double tol = t == DType::kF32 ? 1e-4 : 2e-2;
    Compare(
        be, {RandomTensor({5, 130}, t, 1), RandomTensor({17, 130}, t, 2)},
        {Tensor::EmptyHost({5, 17}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          return Linear(c, in[0], in[1], nullptr, out[0]);
        },
        tol);
    Compare(
        be, {RandomTensor({3, 130}, t, 3), RandomTensor({130}, t, 4)},
        {Tensor::EmptyHost({3, 130}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          return RmsNorm(c, in[0], in[1], 1e-6f, 0.f, out[0]);
        },
        tol);
    Compare(
        be, {RandomTensor({3, 130}, t, 5), RandomTensor({130}, t, 6)},
        {RandomTensor({3, 130}, t, 7), Tensor::EmptyHost({3, 130}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          return AddRmsNorm(c, in[0], out[0], in[1], 1e-6f, 1.f, out[1]);
        },
        tol);
    Compare(
        be, {RandomTensor({3, 34}, t, 8)}, {Tensor::EmptyHost({3, 17}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          return GatedActivation(c, Activation::kSilu, in[0], out[0]);
        },
        tol);
    Compare(
        be, {RandomTensor({11, 9}, t, 9)}, {Tensor::EmptyHost({3, 9}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          Tensor ids = IntsToDevice(c, {10, 0, 3});
          return Embedding(c, ids, in[0], out[0]);
        },
        tol);
  }
}

TEST_P(ConformanceTest, RotaryAndAttention) {
  const Backend& be = GetParam();
  Tensor table = *BuildRopeCosSin(8, 32, 10000.0, RopeScalingParams{});
  Compare(
      be, {table},
      {RandomTensor({3, 4, 8}, DType::kF32, 1), RandomTensor({3, 2, 8}, DType::kF32, 2)},
      [](const ExecCtx& c, auto& in, auto& out) {
        Tensor pos = IntsToDevice(c, {0, 5, 31});
        return ApplyRotary(c, pos, in[0], 8, RopeStyle::kNeox, out[0], out[1]);
      },
      1e-5);
  // Two sequences: a 3-token prefill and a decode at position 5, block size 4.
  Compare(
      be,
      {RandomTensor({4, 4, 8}, DType::kF32, 3), RandomTensor({4, 2, 8}, DType::kF32, 4),
       RandomTensor({4, 2, 8}, DType::kF32, 5)},
      {Zeros({4, 4, 2, 8}), Zeros({4, 4, 2, 8}), Zeros({4, 4, 8})},
      [](const ExecCtx& c, auto& in, auto& out) {
        AttentionMetadata m;
        m.num_seqs = 2;
        m.num_tokens = 4;
        m.block_size = 4;
        m.query_start_loc_host = {0, 3, 4};
        m.seq_lens_host = {3, 6};
        m.block_indptr_host = {0, 1, 3};
        m.block_indices_host = {2, 0, 3};
        m.slot_mapping_host = {8, 9, 10, 13};
        m.query_start_loc = IntsToDevice(c, m.query_start_loc_host);
        m.seq_lens = IntsToDevice(c, m.seq_lens_host);
        m.block_indptr = IntsToDevice(c, m.block_indptr_host);
        m.block_indices = IntsToDevice(c, m.block_indices_host);
        m.slot_mapping = IntsToDevice(c, m.slot_mapping_host);
        RETURN_IF_ERROR(WriteKVCache(c, in[1], in[2], m, out[0], out[1]));
        AttentionParams p;
        p.scale = 0.35f;
        return PagedAttention(c, in[0], out[0], out[1], m, p, out[2]);
      },
      1e-4);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConformanceTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace pagellm::ops

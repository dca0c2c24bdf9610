// Multi-GPU test: run as `mpirun -np 2 dist_nccl_communicator_test` on a machine with 2+ GPUs.
// Skips where fewer GPUs than ranks exist (CI, one-GPU machines).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "dist/nccl_communicator.h"

namespace pagellm {
namespace {

TEST(NcclCommunicatorTest, AllReduceAllGatherBroadcast) {
  int gpus = 0;
  if (cudaGetDeviceCount(&gpus) != cudaSuccess) gpus = 0;
  auto host = MakeMpiCommunicator();
  ASSERT_TRUE(host.ok());
  int rank = (*host)->rank(), n = (*host)->world_size();
  if (gpus < n || n < 2) GTEST_SKIP() << "needs " << n << " GPUs (have " << gpus << ") and 2+ ranks";
  auto comm = MakeNcclCommunicator(std::move(host).value(), rank);
  ASSERT_TRUE(comm.ok()) << comm.status().ToString();
  Communicator& c = **comm;
  float* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 4 * sizeof(float) * n), cudaSuccess);
  std::vector<float> h = {1.f * rank, 2.f, 3.f, 4.f};
  cudaMemcpy(d, h.data(), 16, cudaMemcpyHostToDevice);
  Tensor t(d, DType::kF32, Shape{4}, Device::Cuda(rank));
  ASSERT_TRUE(c.AllReduce(t, ReduceOp::kSum).ok());
  cudaMemcpy(h.data(), d, 16, cudaMemcpyDeviceToHost);
  EXPECT_EQ(h[0], n * (n - 1) / 2.f);
  EXPECT_EQ(h[1], 2.f * n);
  Tensor in(d, DType::kF32, Shape{1}, Device::Cuda(rank));
  cudaMemcpy(d, &h[0], 4, cudaMemcpyHostToDevice);
  h[0] = static_cast<float>(rank);
  cudaMemcpy(d, &h[0], 4, cudaMemcpyHostToDevice);
  float* g = nullptr;
  ASSERT_EQ(cudaMalloc(&g, sizeof(float) * n), cudaSuccess);
  Tensor out(g, DType::kF32, Shape{n}, Device::Cuda(rank));
  ASSERT_TRUE(c.AllGather(in, out).ok());
  std::vector<float> got(n);
  cudaMemcpy(got.data(), g, 4 * n, cudaMemcpyDeviceToHost);
  for (int r = 0; r < n; ++r) EXPECT_EQ(got[r], r);
  EXPECT_TRUE(c.Barrier().ok());
  cudaFree(d);
  cudaFree(g);
}

}  // namespace
}  // namespace pagellm

// Run under mpirun -np 2 (see CMakeLists.txt): every rank checks the collectives' results.
#include <gtest/gtest.h>

#include <thread>

#include "dist/communicator.h"

namespace pagellm {
namespace {

Communicator& Comm() {
  static std::unique_ptr<Communicator> c = [] {
    auto r = MakeMpiCommunicator();
    CHECK(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }();
  return *c;
}

TEST(MpiCommunicatorTest, AllReduceSumAndMax) {
  Communicator& c = Comm();
  ASSERT_GE(c.world_size(), 2);
  for (DType dt : {DType::kF32, DType::kBF16, DType::kF16}) {
    std::vector<float> v = {1.f + c.rank(), -2.f, 0.5f * c.rank()};
    Tensor t = Tensor::FromVector(v, Shape{3}, dt);
    ASSERT_TRUE(c.AllReduce(t, ReduceOp::kSum).ok());
    int n = c.world_size();
    float sum_rank = n * (n - 1) / 2.f;
    EXPECT_EQ(t.ToFloatVector(), (std::vector<float>{n + sum_rank, -2.f * n, 0.5f * sum_rank}));
    Tensor m = Tensor::FromVector({static_cast<float>(c.rank())}, Shape{1}, dt);
    ASSERT_TRUE(c.AllReduce(m, ReduceOp::kMax).ok());
    EXPECT_EQ(m.At(0), n - 1.f);
  }
}

TEST(MpiCommunicatorTest, AllGatherBroadcastBarrier) {
  Communicator& c = Comm();
  int n = c.world_size();
  Tensor in = Tensor::FromVector({static_cast<float>(c.rank()), 10.f + c.rank()}, Shape{1, 2});
  Tensor out = Tensor::EmptyHost(Shape{n, 2}, DType::kF32);
  ASSERT_TRUE(c.AllGather(in, out).ok());
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(out.At(2 * r), r);
    EXPECT_EQ(out.At(2 * r + 1), 10.f + r);
  }
  Tensor b = Tensor::FromVector({c.rank() == 1 ? 7.f : 0.f}, Shape{1});
  ASSERT_TRUE(c.Broadcast(b, 1).ok());
  EXPECT_EQ(b.At(0), 7.f);
  std::string msg = c.rank() == 0 ? std::string("step 42: schedule", 17) : std::string();
  ASSERT_TRUE(c.BroadcastBytes(msg, 0).ok());
  EXPECT_EQ(msg, "step 42: schedule");
  EXPECT_TRUE(c.Barrier().ok());
  Tensor wrong = Tensor::EmptyHost(Shape{1, 2}, DType::kF32);
  EXPECT_FALSE(c.AllGather(in, wrong).ok());
}

TEST(MpiCommunicatorTest, HungPeerTimesOut) {
  Communicator& c = Comm();
  // Rank 1 skips a barrier the others enter: they must time out, not hang.
  // Run last: the communicator is unusable afterwards.
  c.set_timeout(std::chrono::milliseconds(300));
  if (c.rank() != 1) {
    Status s = c.Barrier();
    EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
    EXPECT_NE(s.message().find("peer"), std::string::npos);
    EXPECT_FALSE(c.Barrier().ok());  // broken for good
  } else {
    // The late peer arrives after the others gave up, so the job can still shut down cleanly.
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    c.set_timeout(std::chrono::seconds(10));
    EXPECT_TRUE(c.Barrier().ok());
  }
}

}  // namespace
}  // namespace pagellm

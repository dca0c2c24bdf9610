#include "dist/communicator.h"

#include <gtest/gtest.h>

namespace pagellm {
namespace {

TEST(SingleRankCommunicatorTest, CollectivesAreIdentity) {
  auto c = MakeSingleRankCommunicator();
  EXPECT_EQ(c->rank(), 0);
  EXPECT_EQ(c->world_size(), 1);
  Tensor t = Tensor::FromVector({1, 2, 3}, Shape{3});
  ASSERT_TRUE(c->AllReduce(t, ReduceOp::kSum).ok());
  EXPECT_EQ(t.ToFloatVector(), (std::vector<float>{1, 2, 3}));
  Tensor out = Tensor::EmptyHost(Shape{3}, DType::kF32);
  ASSERT_TRUE(c->AllGather(t, out).ok());
  EXPECT_EQ(out.ToFloatVector(), t.ToFloatVector());
  std::string s = "x";
  EXPECT_TRUE(c->BroadcastBytes(s, 0).ok());
  EXPECT_TRUE(c->Barrier().ok());
}

}  // namespace
}  // namespace pagellm

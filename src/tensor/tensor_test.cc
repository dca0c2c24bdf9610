#include "tensor/tensor.h"

#include <gtest/gtest.h>

namespace pagellm {
namespace {

TEST(TensorTest, ViewsShareMemory) {
  Tensor t = Tensor::FromVector({0, 1, 2, 3, 4, 5}, Shape{2, 3});
  EXPECT_TRUE(t.is_contiguous());
  Tensor col = t.Slice(1, 1, 3);
  EXPECT_EQ(col.shape(), (Shape{2, 2}));
  EXPECT_FALSE(col.is_contiguous());
  EXPECT_EQ(col.ToFloatVector(), (std::vector<float>{1, 2, 4, 5}));
  Tensor row = t.Select(1);
  EXPECT_EQ(row.ToFloatVector(), (std::vector<float>{3, 4, 5}));
  Tensor r = t.Reshape(Shape{3, 2});
  EXPECT_EQ(r.At(5), 5.f);
  t.data<float>()[5] = 9;
  EXPECT_EQ(r.At(5), 9.f);
}

TEST(TensorTest, Bf16Storage) {
  Tensor t = Tensor::FromVector({1.0f, -2.5f, 3.140625f}, Shape{3}, DType::kBF16);
  EXPECT_EQ(t.nbytes(), 6u);
  EXPECT_EQ(t.ToFloatVector(), (std::vector<float>{1.0f, -2.5f, 3.140625f}));
}

TEST(TensorTest, EmptyOnMissingDeviceIsAnError) {
  auto t = Tensor::Empty(Shape{4}, DType::kF32, Device::Cuda(7));
  if (!GetAllocator(Device::Cuda(7))) {
    EXPECT_FALSE(t.ok());
  }
}

}  // namespace
}  // namespace pagellm

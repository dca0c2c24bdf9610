#include "base/status.h"

#include <gtest/gtest.h>

namespace pagellm {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2) return InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status Check(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return OkStatus();
}

TEST(StatusTest, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "odd: 3");
  EXPECT_TRUE(Check(2).ok());
  EXPECT_EQ(Check(3).ToString(), "INVALID_ARGUMENT: odd: 3");
}

TEST(StatusTest, WithContext) {
  Status s = NotFoundError("tensor x").WithContext("model.safetensors");
  EXPECT_EQ(s.message(), "model.safetensors: tensor x");
  EXPECT_TRUE(OkStatus().WithContext("a").ok());
}

TEST(StatusDeathTest, ValueOnErrorAborts) {
  StatusOr<int> r = InternalError("boom");
  EXPECT_DEATH((void)r.value(), "boom");
}

}  // namespace
}  // namespace pagellm

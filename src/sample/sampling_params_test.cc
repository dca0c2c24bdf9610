#include "sample/sampling_params.h"

#include <gtest/gtest.h>

namespace pagellm {
namespace {

TEST(SamplingParamsTest, Defaults) {
  SamplingParams p;
  EXPECT_TRUE(p.Finalize().ok());
  EXPECT_EQ(p.max_tokens, 16);
}

}  // namespace
}  // namespace pagellm

#include "backends/cpu/cpu_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace pagellm::cpu::internal {
namespace {

TEST(CpuUtilTest, FastHalfConversionIsExactForAllValues) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float want = HalfToFloat(static_cast<uint16_t>(h));
    float got = HalfToFloatFast(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << h;
    } else {
      EXPECT_EQ(FloatBits(got), FloatBits(want)) << h;
    }
  }
}

TEST(CpuUtilTest, RowRoundTrips) {
  std::vector<float> src = {0.f, -1.5f, 3.14159f, 65504.f, 1e-7f, -2.5e-5f, 1e30f};
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16}) {
    std::vector<uint8_t> buf(src.size() * DTypeSize(t));
    StoreRow(src.data(), static_cast<int64_t>(src.size()), buf.data(), t, 0);
    std::vector<float> back(src.size());
    LoadRow(buf.data(), t, 0, static_cast<int64_t>(src.size()), back.data());
    for (size_t i = 0; i < src.size(); ++i) EXPECT_EQ(back[i], RoundTo(src[i], t)) << i;
  }
}

}  // namespace
}  // namespace pagellm::cpu::internal

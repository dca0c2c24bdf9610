// Shared by the fuzz targets (*_fuzz.cc) and the smoke driver that runs them under CTest
// without libFuzzer (checkpoint_fuzz_driver.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace pagellm::fuzz {
// Valid inputs the smoke driver mutates (each target defines it).
std::vector<std::string> Seeds();
}  // namespace pagellm::fuzz

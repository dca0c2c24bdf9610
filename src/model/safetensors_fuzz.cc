// Fuzz target: safetensors header validation and tensor access on arbitrary bytes.
#include "model/checkpoint_fuzz.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pagellm;
  auto f = SafetensorsFile::FromMapped(
      MappedFile::FromString(std::string(reinterpret_cast<const char*>(data), size), "fuzz.safetensors"));
  if (!f.ok()) return 0;
  unsigned sum = 0;
  for (const auto& name : (*f)->Names()) {
    auto t = (*f)->Get(name);
    if (!t.ok()) continue;
    const uint8_t* p = static_cast<const uint8_t*>(t->data());
    for (size_t i = 0; i < t->nbytes(); ++i) sum += p[i];  // every byte of a view must be readable
  }
  return static_cast<int>(sum & 0);
}

namespace pagellm::fuzz {
std::vector<std::string> Seeds() {
  auto file = [](const std::string& header, size_t data) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(header.size() >> (8 * i));
    return s + header + std::string(data, '\x3f');
  };
  return {
      file(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}})", 22),
      file(R"({"__metadata__":{"format":"pt"},"x":{"dtype":"I8","shape":[],"data_offsets":[0,1]}})", 1),
      file(R"({"e":{"dtype":"F16","shape":[0],"data_offsets":[0,0]},"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8),
      file(R"({"u":{"dtype":"U8","shape":[1,1,1,1,1,3],"data_offsets":[1,4]}})", 4),
  };
}
}  // namespace pagellm::fuzz

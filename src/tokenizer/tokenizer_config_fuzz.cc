// Fuzz target: tokenizer_config.json parsing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tokenizer/tokenizer_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto cfg = pagellm::tokenizer::ParseTokenizerConfig(
      std::string_view(reinterpret_cast<const char*>(data), size));
  (void)cfg;
  return 0;
}

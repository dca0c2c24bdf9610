// Fuzz target: tokenizer.json parsing, then encode/decode with whatever loaded.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/hf_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto tok = pagellm::tokenizer::HfTokenizer::FromJson(text);
  if (!tok.ok()) return 0;
  for (const char* s : {"Hello w\xC3\xB6rld <s> 123 \xF0\x9F\x98\x80", "", "  a\tb\n"}) {
    auto ids = (*tok)->Encode(s, true);
    if (ids.ok()) (*tok)->Decode(*ids, false);
  }
  std::vector<int32_t> ids;
  for (int32_t i = -2; i < 300; ++i) ids.push_back(i);
  (*tok)->Decode(ids, true);
  (*tok)->Decode(ids, false);
  return 0;
}

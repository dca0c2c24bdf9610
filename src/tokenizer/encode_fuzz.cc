// Fuzz target: Encode/Decode arbitrary bytes with each hand-made tokenizer (all model types).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/tiny_tokenizers.h"

namespace {
const std::vector<std::unique_ptr<pagellm::tokenizer::HfTokenizer>>& Tokenizers() {
  static const auto* toks = [] {
    auto* v = new std::vector<std::unique_ptr<pagellm::tokenizer::HfTokenizer>>();
    for (const auto& j : pagellm::tokenizer::tiny::All()) {
      v->push_back(std::move(pagellm::tokenizer::HfTokenizer::FromJson(j)).value());
    }
    return v;
  }();
  return *toks;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<int32_t> as_ids;
  for (size_t i = 0; i + 1 < size; i += 2) as_ids.push_back((data[i] << 8 | data[i + 1]) % 400 - 5);
  for (const auto& tok : Tokenizers()) {
    for (bool special : {false, true}) {
      auto ids = tok->Encode(text, special);
      if (ids.ok()) tok->Decode(*ids, !special);
    }
    tok->Decode(as_ids, false);
  }
  return 0;
}

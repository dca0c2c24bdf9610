// tokenizer.json "decoder" and "post_processor" sections.
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace pagellm::tokenizer {

// Maps token strings to text pieces (HF decode_chain); the result is joined with "".
class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void DecodeChain(std::vector<std::string>* tokens) const = 0;
};

StatusOr<std::unique_ptr<Decoder>> ParseDecoder(const nlohmann::json& j);  // null -> nullptr
std::unique_ptr<Decoder> MakeByteLevelDecoder();

// transformers' clean_up_tokenization (" ." -> ".", " n't" -> "n't", ...).
std::string CleanUpTokenization(std::string s);

// Adds special tokens around an encoded single sequence (only when add_special_tokens).
class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual void Process(std::vector<int32_t>* ids) const = 0;
};

StatusOr<std::unique_ptr<PostProcessor>> ParsePostProcessor(const nlohmann::json& j);
// prefix + ids + suffix (what transformers builds from add_bos_token / add_eos_token).
std::unique_ptr<PostProcessor> MakeAffixProcessor(std::vector<int32_t> prefix,
                                                  std::vector<int32_t> suffix);

}  // namespace pagellm::tokenizer

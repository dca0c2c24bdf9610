// tokenizer.json "pre_tokenizer" section: splits normalized text into words for the model.
// Thread-safety: immutable after construction.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace pagellm::tokenizer {

struct PreTokenSplit {
  std::string text;
  bool at_start = false;  // begins at offset 0 of the original input (Metaspace "first")
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces *splits with their sub-splits (empty ones dropped).
  virtual Status PreTokenize(std::vector<PreTokenSplit>* splits) const = 0;
};

// nullptr for a null JSON; Unimplemented for unknown types; InvalidArgument if malformed.
StatusOr<std::unique_ptr<PreTokenizer>> ParsePreTokenizer(const nlohmann::json& j);

// The GPT-2 pre-tokenizer (ByteLevel with its regex), used for vocab.json + merges.txt files.
std::unique_ptr<PreTokenizer> MakeByteLevelPreTokenizer(bool add_prefix_space, bool use_regex);

}  // namespace pagellm::tokenizer

// Internal: the interface the Tokenizer facade forwards to (HF pipeline or SentencePiece).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/hf_tokenizer.h"

namespace pagellm::tokenizer {

class TokenizerBackend {
 public:
  virtual ~TokenizerBackend() = default;
  // Without special tokens: the facade adds BOS/EOS/templates itself.
  virtual StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_special) const = 0;
  virtual std::string Decode(std::span<const int32_t> ids, bool skip_special) const = 0;
  virtual std::optional<int32_t> TokenToId(std::string_view token) const = 0;
  virtual std::optional<std::string> IdToToken(int32_t id) const = 0;
  virtual size_t VocabSize() const = 0;
  virtual bool IsSpecial(int32_t id) const = 0;
  // Added tokens (special or not) are decoded verbatim; used for spaces_between_special_tokens.
  virtual bool IsAdded(int32_t id) const = 0;
  virtual std::vector<int32_t> SpecialIds() const = 0;
  // The tokenizer.json pipeline, or nullptr for other formats.
  virtual const HfTokenizer* hf() const { return nullptr; }
};

std::unique_ptr<TokenizerBackend> MakeHfBackend(std::unique_ptr<HfTokenizer> t);
// `added` (from tokenizer_config.json) are matched in the input like the control pieces and
// may extend the id space beyond the model's pieces.
StatusOr<std::unique_ptr<TokenizerBackend>> LoadSentencePieceBackend(
    const std::string& path, bool add_bos, bool add_eos, const std::vector<AddedToken>& added);

}  // namespace pagellm::tokenizer

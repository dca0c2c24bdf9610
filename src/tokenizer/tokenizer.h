// Tokenizer: the one facade the engine, server and CLI use. Loads a model directory
// (tokenizer.json, else tokenizer.model, else vocab.json + merges.txt; plus
// tokenizer_config.json) and reproduces what transformers' AutoTokenizer does with it.
// Thread-safety: all methods are const and may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/tokenizer_config.h"

namespace pagellm::tokenizer {

class TokenizerBackend;
class HfTokenizer;
class PostProcessor;

enum class TokenizerFormat { kHfJson, kSentencePiece, kGpt2Files };

struct DecodeOptions {
  bool skip_special_tokens = false;
  // Separate added tokens from neighbouring text with a space (transformers' slow tokenizers).
  bool spaces_between_special_tokens = false;
  // transformers' clean_up_tokenization (" ." -> "."...); unset = tokenizer_config's value
  // (false when absent).
  std::optional<bool> clean_up_tokenization_spaces;
};

class Tokenizer {
 public:
  // NotFound if the directory has no tokenizer files; InvalidArgument/Unimplemented if they are
  // malformed or use unsupported components.
  static StatusOr<std::unique_ptr<Tokenizer>> Load(const std::string& model_dir);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Invalid UTF-8 gives InvalidArgument. add_special_tokens adds BOS/EOS/template tokens.
  StatusOr<std::vector<int32_t>> Encode(std::string_view text,
                                        bool add_special_tokens = true) const;
  // Never fails: unknown ids are skipped, broken UTF-8 becomes U+FFFD.
  std::string Decode(std::span<const int32_t> ids, const DecodeOptions& options) const;
  std::string Decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  std::optional<int32_t> TokenToId(std::string_view token) const;
  std::optional<std::string> IdToToken(int32_t id) const;
  size_t VocabSize() const;  // max id + 1 (model + added tokens)
  bool IsSpecial(int32_t id) const;
  std::vector<int32_t> SpecialIds() const;  // all special added tokens

  std::optional<int32_t> bos_id() const { return bos_id_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }
  std::optional<int32_t> pad_id() const { return pad_id_; }
  std::optional<int32_t> unk_id() const { return unk_id_; }
  const TokenizerConfig& config() const { return config_; }
  TokenizerFormat format() const { return format_; }

  // The bare tokenizer.json pipeline (HF `tokenizers` semantics, without transformers'
  // adjustments), or nullptr for SentencePiece models.
  const HfTokenizer* hf_pipeline() const;

  // Chat template source by name ("" = the default one: "default" or the only/first one).
  std::optional<std::string> ChatTemplate(std::string_view name = "") const;

 private:
  Tokenizer() = default;
  Status Init();
  std::string DecodeWithSpaces(std::span<const int32_t> ids, bool skip_special) const;

  std::unique_ptr<TokenizerBackend> backend_;
  // Replaces the pipeline's post-processor when transformers would (Llama/Gemma classes).
  std::unique_ptr<PostProcessor> post_override_;
  TokenizerConfig config_;
  TokenizerFormat format_ = TokenizerFormat::kHfJson;
  std::optional<int32_t> bos_id_, eos_id_, pad_id_, unk_id_;
};

}  // namespace pagellm::tokenizer

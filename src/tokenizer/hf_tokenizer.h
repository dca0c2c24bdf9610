// The HF `tokenizers` pipeline loaded from tokenizer.json (or GPT-2 vocab.json + merges.txt):
// added tokens -> normalizer -> pre-tokenizer -> model -> post-processor; decoder for decode.
// Thread-safety: immutable after construction except the model's internal cache (synchronized);
// Encode/Decode may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/added_vocabulary.h"
#include "tokenizer/decoders.h"
#include "tokenizer/model.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenizers.h"

namespace pagellm::tokenizer {

class HfTokenizer {
 public:
  // Parses tokenizer.json text. Malformed input gives InvalidArgument, unsupported
  // components Unimplemented.
  static StatusOr<std::unique_ptr<HfTokenizer>> FromJson(std::string_view json_text);
  // GPT-2 style: byte-level BPE; "<|endoftext|>" becomes a special added token if present.
  static StatusOr<std::unique_ptr<HfTokenizer>> FromGpt2Files(std::string_view vocab_json,
                                                              std::string_view merges_txt);

  // REQUIRES nothing: invalid UTF-8 gives InvalidArgument.
  StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_special_tokens) const;
  // Unknown ids are skipped (as HF does); output is valid UTF-8.
  std::string Decode(std::span<const int32_t> ids, bool skip_special_tokens) const;

  std::optional<int32_t> TokenToId(std::string_view token) const;
  // nullptr if the id is unknown.
  const std::string* IdToToken(int32_t id) const;
  size_t VocabSize() const;  // max id + 1 over the model and the added tokens
  bool IsSpecial(int32_t id) const;
  const AddedVocabulary& added_vocabulary() const { return added_; }


 private:
  HfTokenizer() = default;
  Status EncodePiece(const InputPiece& piece, std::vector<int32_t>* ids) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<PostProcessor> post_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocabulary added_;
};

}  // namespace pagellm::tokenizer

// Byte-pair-encoding model (HF tokenizers semantics: ranks = merge order, byte_fallback,
// unk fusing, ignore_merges, continuing_subword_prefix / end_of_word_suffix; dropout ignored).
#pragma once

#include <array>
#include <mutex>

#include "tokenizer/model.h"

namespace pagellm::tokenizer {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

class BpeModel : public Model {
 public:
  // `merges` are (left, right) token strings in rank order.
  static StatusOr<std::unique_ptr<BpeModel>> Create(
      Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      BpeOptions options);

  Status Tokenize(std::string_view word, std::vector<int32_t>* ids) const override;
  const Vocab& vocab() const override { return vocab_; }

 private:
  struct MergeInfo {
    int32_t rank;
    int32_t new_id;
  };
  BpeModel() = default;
  Status InitialSymbols(std::string_view word, std::vector<int32_t>* syms,
                        std::vector<int32_t>* lens) const;
  void MergeAll(std::vector<int32_t>* syms) const;
  const MergeInfo* FindMerge(int32_t a, int32_t b) const;

  Vocab vocab_;
  std::unordered_map<uint64_t, MergeInfo> merges_;
  BpeOptions opt_;
  std::optional<int32_t> unk_id_;
  std::array<std::optional<int32_t>, 256> byte_ids_;  // <0xXX> tokens for byte_fallback

  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>>
      cache_;
};

}  // namespace pagellm::tokenizer

// Added tokens ("added_tokens" in tokenizer.json): matched in the input before the pipeline,
// the way HF tokenizers does (leftmost-longest; lstrip/rstrip/single_word; `normalized` tokens are
// matched on normalized text, the others on raw text).
// Thread-safety: immutable after construction.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "tokenizer/normalizers.h"

namespace pagellm::tokenizer {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool normalized = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

// A piece of input after added-token extraction: either an added token or normalized text.
struct InputPiece {
  std::string text;
  int32_t token_id = -1;  // >= 0 for an added token
  bool at_start = false;  // starts at offset 0 of the original input
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // `normalizer` (may be null) normalizes the contents of `normalized` tokens.
  static StatusOr<AddedVocabulary> Create(std::vector<AddedToken> tokens,
                                          const Normalizer* normalizer);

  // Splits `text` into added tokens and normalized text pieces (empty pieces dropped).
  Status ExtractAndNormalize(std::string_view text, const Normalizer* normalizer,
                             std::vector<InputPiece>* out) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  const AddedToken* FindById(int32_t id) const;
  const AddedToken* FindByContent(std::string_view content) const;

 private:
  // A byte trie for leftmost-longest matching.
  class Trie {
   public:
    void Insert(std::string_view key, int32_t value);
    // Longest key that is a prefix of s.substr(pos): returns value and sets *len, or -1.
    int32_t LongestAt(std::string_view s, size_t pos, size_t* len) const;
    bool empty() const { return nodes_.size() <= 1; }
    bool MayStartWith(unsigned char c) const { return first_[c]; }

   private:
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> next;  // sorted by byte
      int32_t value = -1;
    };
    std::vector<Node> nodes_ = std::vector<Node>(1);
    std::array<bool, 256> first_{};
  };

  struct Match {
    int32_t token_index;
    size_t b, e;
  };
  void FindMatches(std::string_view s, const Trie& trie, std::vector<Match>* out) const;

  std::vector<AddedToken> tokens_;
  std::vector<int32_t> by_id_;  // id -> index into tokens_, or -1 (ids are small and dense)
  std::unordered_map<std::string, size_t> by_content_;
  Trie raw_trie_, normalized_trie_;
};

}  // namespace pagellm::tokenizer

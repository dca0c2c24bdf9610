// tokenizer.json "model" section: a pre-tokenized word -> token ids (BPE, Unigram, WordPiece).
// Thread-safety: Tokenize may be called concurrently (internal caches are synchronized).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace pagellm::tokenizer {

// Largest token id accepted from files (real vocabularies stay far below; bounds memory use on
// malformed input).
inline constexpr int64_t kMaxTokenId = 1 << 21;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// Token <-> id tables; ids may have holes.
class Vocab {
 public:
  void Add(std::string token, int32_t id);
  void Reserve(size_t n) {
    map_.reserve(n);
    tokens_.reserve(n);
    present_.reserve(n);
  }
  std::optional<int32_t> Find(std::string_view token) const {
    auto it = map_.find(token);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  const std::string* Token(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < present_.size() && present_[id] ? &tokens_[id]
                                                                                 : nullptr;
  }
  size_t size() const { return tokens_.size(); }  // max id + 1

 private:
  TokenMap map_;
  std::vector<std::string> tokens_;
  std::vector<bool> present_;
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of one word (REQUIRES: valid UTF-8).
  virtual Status Tokenize(std::string_view word, std::vector<int32_t>* ids) const = 0;
  virtual const Vocab& vocab() const = 0;
};

struct ModelTables;

// BPE, Unigram or WordPiece from the "model" JSON object. `tables` (may be null) holds the
// vocab/merges captured by ParseTokenizerJson when the DOM has null there.
StatusOr<std::unique_ptr<Model>> ParseModel(const nlohmann::json& j, ModelTables* tables = nullptr);

// BPE from GPT-2 style files: vocab.json text and merges.txt text.
StatusOr<std::unique_ptr<Model>> MakeBpeFromFiles(std::string_view vocab_json,
                                                  std::string_view merges_txt);

}  // namespace pagellm::tokenizer

// Unigram (SentencePiece-style) model: Viterbi over a piece lattice (HF tokenizers semantics:
// unknown characters cost min_score - 10, consecutive unknowns fuse, optional byte_fallback).
#pragma once

#include "tokenizer/model.h"

namespace pagellm::tokenizer {

class UnigramModel : public Model {
 public:
  static StatusOr<std::unique_ptr<UnigramModel>> Create(
      std::vector<std::pair<std::string, double>> pieces, std::optional<int32_t> unk_id,
      bool byte_fallback);
  Status Tokenize(std::string_view word, std::vector<int32_t>* ids) const override;
  const Vocab& vocab() const override { return vocab_; }

 private:
  UnigramModel() = default;
  Vocab vocab_;
  std::vector<double> scores_;
  std::optional<int32_t> unk_id_;
  bool byte_fallback_ = false;
  double unk_score_ = 0;
  size_t max_piece_bytes_ = 0;
};

// WordPiece (BERT): greedy longest-match-first with a continuation prefix.
class WordPieceModel : public Model {
 public:
  static StatusOr<std::unique_ptr<WordPieceModel>> Create(Vocab vocab, std::string unk_token,
                                                          std::string prefix,
                                                          size_t max_input_chars);
  Status Tokenize(std::string_view word, std::vector<int32_t>* ids) const override;
  const Vocab& vocab() const override { return vocab_; }

 private:
  WordPieceModel() = default;
  Vocab vocab_;
  int32_t unk_id_ = 0;
  std::string prefix_;
  size_t max_chars_ = 100;
};

}  // namespace pagellm::tokenizer

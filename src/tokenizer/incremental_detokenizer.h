// Streaming detokenization (vLLM's prefix/read-offset scheme): text is released only once it
// is final, i.e. the decode of the window does not end in U+FFFD (an incomplete UTF-8 sequence
// from byte-level / byte-fallback tokens). Leading-space rules (SentencePiece / Metaspace /
// Strip decoders) stay right because every window is decoded from the same first token.
// Concatenated deltas + Flush() == Tokenizer::Decode of the generated ids (without cleanup).
// Thread-safety: one instance per sequence; not thread-safe. The Tokenizer must outlive it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace pagellm::tokenizer {

class IncrementalDetokenizer {
 public:
  // `prompt_ids` (optional) give context: the first generated token then keeps its leading
  // space as it would after the prompt. options.clean_up_tokenization_spaces is forced off.
  IncrementalDetokenizer(const Tokenizer& tokenizer, DecodeOptions options,
                         std::span<const int32_t> prompt_ids = {});

  // Appends generated token(s); returns the newly final text (often empty).
  std::string Step(int32_t id);
  std::string Step(std::span<const int32_t> ids);
  // End of sequence: returns whatever was held back (e.g. a dangling partial character).
  std::string Flush();

  const std::string& text() const { return text_; }  // everything emitted so far
  const std::vector<int32_t>& ids() const { return ids_; }  // prompt + generated

 private:
  std::string DecodeRange(size_t begin, size_t end) const;

  const Tokenizer& tok_;
  DecodeOptions options_;
  std::vector<int32_t> ids_;
  size_t prefix_offset_ = 0;
  size_t read_offset_ = 0;
  std::string text_;
};

}  // namespace pagellm::tokenizer

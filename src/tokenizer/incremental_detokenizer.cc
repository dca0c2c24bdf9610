#include "tokenizer/incremental_detokenizer.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {

namespace {
// Tokens of prompt context decoded with each window (vLLM uses the same number).
constexpr size_t kPromptContext = 5;

bool EndsWithReplacement(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, kReplacementChar) == 0;
}
}  // namespace

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, DecodeOptions options,
                                               std::span<const int32_t> prompt_ids)
    : tok_(tokenizer), options_(options), ids_(prompt_ids.begin(), prompt_ids.end()) {
  options_.clean_up_tokenization_spaces = false;
  read_offset_ = ids_.size();
  prefix_offset_ = ids_.size() > kPromptContext ? ids_.size() - kPromptContext : 0;
}

std::string IncrementalDetokenizer::DecodeRange(size_t begin, size_t end) const {
  return tok_.Decode(std::span<const int32_t>(ids_).subspan(begin, end - begin), options_);
}

std::string IncrementalDetokenizer::Step(int32_t id) {
  ids_.push_back(id);
  std::string prefix = DecodeRange(prefix_offset_, read_offset_);
  std::string full = DecodeRange(prefix_offset_, ids_.size());
  if (full.size() <= prefix.size() || EndsWithReplacement(full)) return "";
  std::string delta = full.substr(prefix.size());
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  text_ += delta;
  return delta;
}

std::string IncrementalDetokenizer::Step(std::span<const int32_t> ids) {
  std::string out;
  for (int32_t id : ids) out += Step(id);
  return out;
}

std::string IncrementalDetokenizer::Flush() {
  if (read_offset_ == ids_.size()) return "";
  std::string prefix = DecodeRange(prefix_offset_, read_offset_);
  std::string full = DecodeRange(prefix_offset_, ids_.size());
  std::string delta = full.size() > prefix.size() ? full.substr(prefix.size()) : "";
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  text_ += delta;
  return delta;
}

}  // namespace pagellm::tokenizer

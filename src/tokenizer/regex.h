// PCRE2 (UTF + UCP, JIT-compiled) wrapper for the regexes inside tokenizer.json.
// Thread-safety: a compiled Regex is immutable; FindAll may run concurrently on one Regex.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace pagellm::tokenizer {

class Regex {
 public:
  // Compiles `pattern` (Oniguruma/PCRE syntax as found in tokenizer.json).
  static StatusOr<std::unique_ptr<Regex>> Compile(std::string_view pattern);
  // Compiles a literal string (matched verbatim).
  static StatusOr<std::unique_ptr<Regex>> Literal(std::string_view text);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends the [begin, end) byte ranges of all non-overlapping leftmost matches in `s`
  // (REQUIRES: s is valid UTF-8). Errors only if PCRE2 fails (e.g. match limits).
  Status FindAll(std::string_view s, std::vector<std::pair<size_t, size_t>>* out) const;

  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*
};

}  // namespace pagellm::tokenizer

// tokenizer.json "normalizer" section: text -> normalized text, applied to each piece of input
// that is not an added token.
// Thread-safety: immutable after construction.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace pagellm::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // REQUIRES: *s is valid UTF-8; leaves it valid UTF-8.
  virtual Status Normalize(std::string* s) const = 0;
};

// Builds a normalizer from its JSON object; a null JSON yields nullptr (no normalization).
// Unknown types give Unimplemented, malformed objects InvalidArgument.
StatusOr<std::unique_ptr<Normalizer>> ParseNormalizer(const nlohmann::json& j);

// Unicode normalization forms via utf8proc (exposed for tests and the Bert normalizer).
enum class UnicodeForm { kNfc, kNfd, kNfkc, kNfkd };
Status NormalizeUnicode(UnicodeForm form, std::string* s);

}  // namespace pagellm::tokenizer

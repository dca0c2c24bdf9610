// tokenizer_config.json: special tokens, add_bos/add_eos, model_max_length, chat template(s).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "tokenizer/added_vocabulary.h"

namespace pagellm::tokenizer {

struct TokenizerConfig {
  // Special token strings (the "content" of AddedToken dicts); unset when absent or null.
  std::optional<std::string> bos_token, eos_token, unk_token, pad_token;
  std::optional<bool> add_bos_token, add_eos_token;
  std::optional<int64_t> model_max_length;  // unset when absent or absurdly large (1e30)
  std::optional<bool> clean_up_tokenization_spaces;
  std::string tokenizer_class;  // e.g. "LlamaTokenizerFast"; empty when absent
  // (name, template source); a plain-string chat_template is named "default".
  std::vector<std::pair<std::string, std::string>> chat_templates;
  // "added_tokens_decoder" (id -> AddedToken dict); used for SentencePiece models, where
  // tokenizer.json is absent.
  std::vector<AddedToken> added_tokens;
};

// Parses tokenizer_config.json text; malformed JSON gives InvalidArgument.
StatusOr<TokenizerConfig> ParseTokenizerConfig(std::string_view json_text);

}  // namespace pagellm::tokenizer

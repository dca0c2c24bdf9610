// Lexer: template source -> tokens, applying jinja2's whitespace rules as transformers
// configures them (trim_blocks, lstrip_blocks, "-"/"+" modifiers, newline normalisation,
// one trailing newline dropped). Comments vanish here; {% raw %} bodies become data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace pagellm::jinja {

enum class TokenType {
  kData,        // literal template text
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,  // value is already unescaped
  kInt,
  kFloat,
  kOp,  // operators and punctuation: + - * / // % ** ~ == != < <= > >= = . , : | ( ) [ ] { }
  kEof,
};

struct Token {
  TokenType type;
  std::string value;
  int line = 1;
  int col = 1;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

// Returns a syntax error with line:col for unterminated tags, strings or comments.
StatusOr<std::vector<Token>> Tokenize(std::string_view source, const LexerOptions& options = {});

}  // namespace pagellm::jinja

#include "tokenizer/jinja/lexer.h"

#include <cctype>

#include "tokenizer/jinja/pyformat.h"

namespace pagellm::jinja {
namespace {

bool IsWs(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
         (c >= 0x1c && c <= 0x1f);
}

// Python's unicode-escape decoding of a string literal body (jinja2 does the same).
// Returns false for escapes Python rejects (\N{...} names are not supported either).
bool Unescape(std::string_view s, std::string* result) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out.push_back(c);
      continue;
    }
    char e = s[++i];
    auto hex = [&](int n) -> bool {
      if (i + n >= s.size()) return false;
      char32_t v = 0;
      for (int k = 1; k <= n; ++k) {
        char h = s[i + k];
        if (!std::isxdigit(static_cast<unsigned char>(h))) return false;
        v = v * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
      }
      if (v > 0x10ffff) return false;
      AppendUtf8(v, &out);
      i += n;
      return true;
    };
    switch (e) {
      case '\n':
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\'':
        out.push_back('\'');
        break;
      case '"':
        out.push_back('"');
        break;
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
        if (!hex(2)) return false;
        break;
      case 'u':
        if (!hex(4)) return false;
        break;
      case 'U':
        if (!hex(8)) return false;
        break;
      case 'N':
        return false;
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0';
          for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k) {
            v = v * 8 + (s[++i] - '0');
          }
          AppendUtf8(static_cast<char32_t>(v), &out);
        } else {
          out.push_back('\\');
          out.push_back(e);
        }
    }
  }
  *result = std::move(out);
  return true;
}

class Lexer {
 public:
  Lexer(std::string src, const LexerOptions& o) : src_(std::move(src)), opts_(o) {}

  StatusOr<std::vector<Token>> Run() {
    while (pos_ < src_.size()) {
      size_t start = src_.find('{', pos_);
      while (start != std::string::npos && start + 1 < src_.size() && src_[start + 1] != '{' &&
             src_[start + 1] != '%' && src_[start + 1] != '#') {
        start = src_.find('{', start + 1);
      }
      if (start == std::string::npos || start + 1 >= src_.size()) {
        Emit(TokenType::kData, src_.substr(pos_), pos_);
        break;
      }
      RETURN_IF_ERROR(LexTag(start));
    }
    out_.push_back(Token{TokenType::kEof, "", Line(src_.size()), 1});
    return std::move(out_);
  }

 private:
  int Line(size_t p) {
    while (line_pos_ < p && line_pos_ < src_.size()) {
      if (src_[line_pos_++] == '\n') {
        ++line_;
        line_begin_ = line_pos_;
      }
    }
    return line_;
  }
  void Emit(TokenType t, std::string v, size_t at) {
    int line = Line(at);
    out_.push_back(Token{t, std::move(v), line, static_cast<int>(at - line_begin_) + 1});
  }
  Status Error(size_t at, const std::string& msg) {
    int line = Line(at);
    return InvalidArgumentError("template syntax error at line " + std::to_string(line) +
                                ", column " + std::to_string(at - line_begin_ + 1) + ": " + msg);
  }

  // Whitespace control on the text that precedes a tag starting at `start`.
  void EmitText(std::string text, char kind, char mod) {
    if (mod == '-') {
      while (!text.empty() && IsWs(text.back())) text.pop_back();
    } else if (mod != '+' && opts_.lstrip_blocks && kind != '{') {
      size_t l = text.rfind('\n');
      l = l == std::string::npos ? 0 : l + 1;
      if (l > 0 || line_starting_) {
        bool all_ws = true;
        for (size_t i = l; i < text.size(); ++i) all_ws = all_ws && IsWs(text[i]);
        if (all_ws) text.resize(l);
      }
    }
    if (!text.empty()) Emit(TokenType::kData, std::move(text), pos_);
  }

  // Whitespace control after a tag end that finished at pos_.
  void AfterTagEnd(char mod, bool trim) {
    line_starting_ = false;
    if (mod == '-') {
      while (pos_ < src_.size() && IsWs(src_[pos_])) line_starting_ = src_[pos_++] == '\n';
    } else if (mod != '+' && trim && opts_.trim_blocks && pos_ < src_.size() &&
               src_[pos_] == '\n') {
      ++pos_;
      line_starting_ = true;
    }
  }

  // Matches `{%[-+]?\s*raw\s*-?%}` at `start`; returns the end offset or 0.
  size_t MatchRawBegin(size_t start, const char* word, char* end_mod) {
    size_t p = start + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    while (p < src_.size() && IsWs(src_[p])) ++p;
    std::string_view w(word);
    if (src_.compare(p, w.size(), w) != 0) return 0;
    p += w.size();
    while (p < src_.size() && IsWs(src_[p])) ++p;
    *end_mod = 0;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) *end_mod = src_[p++];
    if (src_.compare(p, 2, "%}") != 0) return 0;
    return p + 2;
  }

  Status LexRaw(size_t start, size_t body) {
    size_t p = body;
    while (true) {
      p = src_.find("{%", p);
      if (p == std::string::npos) return Error(start, "missing end of raw directive");
      char end_mod = 0;
      size_t end = MatchRawBegin(p, "endraw", &end_mod);
      if (end == 0) {
        p += 2;
        continue;
      }
      char mod = p + 2 < src_.size() ? src_[p + 2] : 0;
      std::string text = src_.substr(body, p - body);
      pos_ = body;
      EmitText(std::move(text), '%', mod);
      pos_ = end;
      AfterTagEnd(end_mod, /*trim=*/true);
      return OkStatus();
    }
  }

  Status LexTag(size_t start) {
    char kind = src_[start + 1];
    char mod = start + 2 < src_.size() ? src_[start + 2] : 0;
    if (mod != '-' && mod != '+') mod = 0;
    std::string text = src_.substr(pos_, start - pos_);
    char raw_mod = 0;
    size_t raw_end = kind == '%' ? MatchRawBegin(start, "raw", &raw_mod) : 0;
    EmitText(std::move(text), kind, mod);
    line_starting_ = false;
    pos_ = start + 2 + (mod ? 1 : 0);
    if (raw_end != 0) {
      pos_ = raw_end;
      if (raw_mod == '-') AfterTagEnd('-', false);
      return LexRaw(start, pos_);
    }
    if (kind == '#') {
      size_t end = src_.find("#}", pos_);
      if (end == std::string::npos) return Error(start, "missing end of comment tag");
      char end_mod = end > pos_ ? src_[end - 1] : 0;
      pos_ = end + 2;
      AfterTagEnd(end_mod == '-' || end_mod == '+' ? end_mod : 0, /*trim=*/true);
      return OkStatus();
    }
    Emit(kind == '{' ? TokenType::kVarBegin : TokenType::kBlockBegin, "", start);
    return LexInside(start, kind == '{' ? '}' : '%');
  }

  Status LexInside(size_t start, char close) {
    int depth = 0;
    while (true) {
      while (pos_ < src_.size() && IsWs(src_[pos_])) ++pos_;
      if (pos_ >= src_.size()) return Error(start, "unexpected end of template, tag not closed");
      char c = src_[pos_];
      if (depth == 0) {
        // Block ends take "-" or "+", variable ends only "-" (jinja2's rules).
        char mod = (c == '-' || (c == '+' && close == '%')) ? c : 0;
        size_t p = pos_ + (mod ? 1 : 0);
        if (p + 1 < src_.size() && src_[p] == close && src_[p + 1] == '}') {
          Emit(close == '}' ? TokenType::kVarEnd : TokenType::kBlockEnd, "", pos_);
          pos_ = p + 2;
          AfterTagEnd(mod, /*trim=*/close == '%');
          return OkStatus();
        }
      }
      RETURN_IF_ERROR(LexOne(&depth));
    }
  }

  Status LexOne(int* depth) {
    size_t at = pos_;
    char c = src_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (pos_ < src_.size() &&
             (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) {
        ++pos_;
      }
      Emit(TokenType::kName, src_.substr(at, pos_ - at), at);
      return OkStatus();
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return LexNumber();
    if (c == '\'' || c == '"') return LexString();
    static const char* kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : kTwo) {
      if (src_.compare(pos_, 2, op) == 0) {
        pos_ += 2;
        Emit(TokenType::kOp, op, at);
        return OkStatus();
      }
    }
    if (std::string_view("+-*/%~<>=.,:|()[]{}").find(c) == std::string_view::npos) {
      return Error(at, std::string("unexpected char '") + c + "'");
    }
    if (c == '(' || c == '[' || c == '{') ++*depth;
    if ((c == ')' || c == ']' || c == '}') && *depth > 0) --*depth;
    ++pos_;
    Emit(TokenType::kOp, std::string(1, c), at);
    return OkStatus();
  }

  Status LexNumber() {
    size_t at = pos_;
    auto digits = [&] {
      while (pos_ < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos_])) ||
                                    (src_[pos_] == '_' && pos_ + 1 < src_.size() &&
                                     std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))))) {
        ++pos_;
      }
    };
    digits();
    bool is_float = false;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' &&
        std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))) {
      is_float = true;
      ++pos_;
      digits();
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
      if (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) {
        is_float = true;
        pos_ = p;
        digits();
      }
    }
    std::string text;
    for (size_t i = at; i < pos_; ++i) {
      if (src_[i] != '_') text.push_back(src_[i]);
    }
    Emit(is_float ? TokenType::kFloat : TokenType::kInt, std::move(text), at);
    return OkStatus();
  }

  Status LexString() {
    size_t at = pos_;
    char q = src_[pos_++];
    while (pos_ < src_.size() && src_[pos_] != q) pos_ += src_[pos_] == '\\' ? 2 : 1;
    if (pos_ >= src_.size()) return Error(at, "unexpected end of string");
    ++pos_;
    std::string value;
    if (!Unescape(std::string_view(src_).substr(at + 1, pos_ - at - 2), &value)) {
      return Error(at, "malformed escape sequence in string");
    }
    Emit(TokenType::kString, std::move(value), at);
    return OkStatus();
  }

  std::string src_;
  LexerOptions opts_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  std::vector<Token> out_;
  int line_ = 1;
  size_t line_pos_ = 0;
  size_t line_begin_ = 0;
};

// jinja2 splits the source on \r\n, \r and \n, rejoins with \n, and drops one trailing newline.
std::string NormalizeNewlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

StatusOr<std::vector<Token>> Tokenize(std::string_view source, const LexerOptions& options) {
  Lexer lexer(NormalizeNewlines(source), options);
  return lexer.Run();
}

}  // namespace pagellm::jinja

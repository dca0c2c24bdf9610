#include "tokenizer/normalizers.h"

#include <utf8proc.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "tokenizer/json_util.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {

using nlohmann::json;

Status NormalizeUnicode(UnicodeForm form, std::string* s) {
  bool ascii = true;
  for (unsigned char c : *s) ascii &= c < 0x80;
  if (ascii) return OkStatus();  // every form leaves ASCII unchanged
  if (form == UnicodeForm::kNfc) {
    // Text below U+0300 (no combining marks, no Hangul) is already in NFC.
    bool low = true;
    for (size_t i = 0; i < s->size() && low;) {
      char32_t c;
      i += DecodeUtf8(*s, i, &c);
      low = c < 0x300;
    }
    if (low) return OkStatus();
  }
  int opts = UTF8PROC_STABLE;
  switch (form) {
    case UnicodeForm::kNfc: opts |= UTF8PROC_COMPOSE; break;
    case UnicodeForm::kNfd: opts |= UTF8PROC_DECOMPOSE; break;
    case UnicodeForm::kNfkc: opts |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case UnicodeForm::kNfkd: opts |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s->data()),
                                    static_cast<utf8proc_ssize_t>(s->size()), &out,
                                    static_cast<utf8proc_option_t>(opts));
  if (n < 0) return InvalidArgumentError(std::string("normalization failed: ") +
                                         utf8proc_errmsg(n));
  s->assign(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  std::free(out);
  return OkStatus();
}

namespace {

// Applies f(code point, out) to every code point of *s.
template <typename F>
void MapChars(std::string* s, F f) {
  std::string out;
  out.reserve(s->size());
  for (size_t i = 0; i < s->size();) {
    char32_t c;
    i += DecodeUtf8(*s, i, &c);
    f(c, &out);
  }
  s->swap(out);
}

void Lowercase(std::string* s) {
  MapChars(s, [](char32_t c, std::string* out) {
    if (c < 0x80) {
      out->push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    } else if (c == 0x130) {  // full lowercase mapping of U+0130 is two code points
      out->append("i\xCC\x87");
    } else {
      AppendUtf8(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))), out);
    }
  });
}

Status StripAccents(std::string* s) {
  MapChars(s, [](char32_t c, std::string* out) {
    if (!IsCombiningMark(c)) AppendUtf8(c, out);
  });
  return OkStatus();
}

class FormNormalizer : public Normalizer {
 public:
  explicit FormNormalizer(UnicodeForm f) : form_(f) {}
  Status Normalize(std::string* s) const override { return NormalizeUnicode(form_, s); }

 private:
  UnicodeForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  Status Normalize(std::string* s) const override {
    Lowercase(s);
    return OkStatus();
  }
};

class StripAccentsNormalizer : public Normalizer {
 public:
  Status Normalize(std::string* s) const override { return StripAccents(s); }
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string p) : prepend_(std::move(p)) {}
  Status Normalize(std::string* s) const override {
    if (!s->empty()) s->insert(0, prepend_);
    return OkStatus();
  }

 private:
  std::string prepend_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(std::unique_ptr<Regex> re, std::string content)
      : re_(std::move(re)), content_(std::move(content)) {}
  Status Normalize(std::string* s) const override {
    std::vector<std::pair<size_t, size_t>> m;
    RETURN_IF_ERROR(re_->FindAll(*s, &m));
    if (m.empty()) return OkStatus();
    std::string out;
    size_t prev = 0;
    for (auto [b, e] : m) {
      out.append(*s, prev, b - prev);
      out += content_;
      prev = e;
    }
    out.append(*s, prev, std::string::npos);
    s->swap(out);
    return OkStatus();
  }

 private:
  std::unique_ptr<Regex> re_;
  std::string content_;
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  Status Normalize(std::string* s) const override {
    size_t b = 0, e = s->size();
    while (left_ && b < e) {
      char32_t c;
      int n = DecodeUtf8(*s, b, &c);
      if (!IsWhitespace(c)) break;
      b += n;
    }
    while (right_ && e > b) {
      size_t k = e - 1;
      while (k > b && (static_cast<unsigned char>((*s)[k]) & 0xC0) == 0x80) --k;
      char32_t c;
      DecodeUtf8(*s, k, &c);
      if (!IsWhitespace(c)) break;
      e = k;
    }
    *s = s->substr(b, e - b);
    return OkStatus();
  }

 private:
  bool left_, right_;
};

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean, bool chinese, bool strip, bool lower)
      : clean_(clean), chinese_(chinese), strip_(strip), lower_(lower) {}
  Status Normalize(std::string* s) const override {
    if (clean_) {
      MapChars(s, [](char32_t c, std::string* out) {
        if (c == 0 || c == 0xFFFD || IsControl(c)) return;
        bool ws = c == '\t' || c == '\n' || c == '\r' || c == ' ' ||
                  utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_ZS;
        AppendUtf8(ws ? U' ' : c, out);
      });
    }
    if (chinese_) {
      MapChars(s, [](char32_t c, std::string* out) {
        if (!IsChineseChar(c)) return AppendUtf8(c, out);
        out->push_back(' ');
        AppendUtf8(c, out);
        out->push_back(' ');
      });
    }
    if (strip_) {
      RETURN_IF_ERROR(NormalizeUnicode(UnicodeForm::kNfd, s));
      RETURN_IF_ERROR(StripAccents(s));
    }
    if (lower_) Lowercase(s);
    return OkStatus();
  }

 private:
  bool clean_, chinese_, strip_, lower_;
};

class ByteLevelNormalizer : public Normalizer {
 public:
  Status Normalize(std::string* s) const override {
    std::string out;
    for (unsigned char c : *s) out += ByteToUnicode(c);
    s->swap(out);
    return OkStatus();
  }
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> v) : v_(std::move(v)) {}
  Status Normalize(std::string* s) const override {
    for (const auto& n : v_) RETURN_IF_ERROR(n->Normalize(s));
    return OkStatus();
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> v_;
};

}  // namespace

StatusOr<std::unique_ptr<Normalizer>> ParseNormalizer(const json& j) {
  NestingGuard guard;
  if (guard.too_deep()) return InvalidArgumentError("components nested too deeply");
  if (j.is_null()) return std::unique_ptr<Normalizer>();
  ASSIGN_OR_RETURN(std::string type, GetString(j, "type"));
  if (type == "NFC") return std::unique_ptr<Normalizer>(new FormNormalizer(UnicodeForm::kNfc));
  if (type == "NFD") return std::unique_ptr<Normalizer>(new FormNormalizer(UnicodeForm::kNfd));
  if (type == "NFKC") return std::unique_ptr<Normalizer>(new FormNormalizer(UnicodeForm::kNfkc));
  if (type == "NFKD") return std::unique_ptr<Normalizer>(new FormNormalizer(UnicodeForm::kNfkd));
  // SentencePiece's precompiled charsmap is (for the models we meet) NFKC-based; approximate.
  if (type == "Precompiled") {
    return std::unique_ptr<Normalizer>(new FormNormalizer(UnicodeForm::kNfkc));
  }
  if (type == "Lowercase") return std::unique_ptr<Normalizer>(new LowercaseNormalizer());
  if (type == "StripAccents") return std::unique_ptr<Normalizer>(new StripAccentsNormalizer());
  if (type == "ByteLevel") return std::unique_ptr<Normalizer>(new ByteLevelNormalizer());
  if (type == "Prepend") {
    ASSIGN_OR_RETURN(std::string p, GetString(j, "prepend"));
    return std::unique_ptr<Normalizer>(new PrependNormalizer(std::move(p)));
  }
  if (type == "Replace") {
    ASSIGN_OR_RETURN(auto re, ParsePattern(j));
    ASSIGN_OR_RETURN(std::string content, GetString(j, "content"));
    return std::unique_ptr<Normalizer>(new ReplaceNormalizer(std::move(re), std::move(content)));
  }
  if (type == "Strip") {
    return std::unique_ptr<Normalizer>(
        new StripNormalizer(GetBool(j, "strip_left", true), GetBool(j, "strip_right", true)));
  }
  if (type == "BertNormalizer") {
    bool lower = GetBool(j, "lowercase", true);
    bool strip = j.contains("strip_accents") && j["strip_accents"].is_boolean()
                     ? j["strip_accents"].get<bool>() : lower;
    return std::unique_ptr<Normalizer>(new BertNormalizer(
        GetBool(j, "clean_text", true), GetBool(j, "handle_chinese_chars", true), strip, lower));
  }
  if (type == "Sequence") {
    if (!j.contains("normalizers") || !j["normalizers"].is_array()) {
      return InvalidArgumentError("Sequence normalizer without a 'normalizers' array");
    }
    std::vector<std::unique_ptr<Normalizer>> v;
    for (const auto& e : j["normalizers"]) {
      ASSIGN_OR_RETURN(auto n, ParseNormalizer(e));
      if (n) v.push_back(std::move(n));
    }
    return std::unique_ptr<Normalizer>(new SequenceNormalizer(std::move(v)));
  }
  return UnimplementedError("unsupported normalizer type '" + type + "'");
}

}  // namespace pagellm::tokenizer

#include "tokenizer/decoders.h"

#include <nlohmann/json.hpp>

#include "tokenizer/json_util.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {

using nlohmann::json;

namespace {

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  if (from.empty()) return s;
  std::string out;
  size_t prev = 0;
  for (size_t p; (p = s.find(from, prev)) != std::string::npos; prev = p + from.size()) {
    out.append(s, prev, p - prev);
    out += to;
  }
  out.append(s, prev, std::string::npos);
  return out;
}

class ByteLevelDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::string bytes;
    for (const auto& t : *tokens) {
      size_t start = bytes.size();
      bool ok = true;
      for (size_t i = 0; i < t.size() && ok;) {
        char32_t c;
        i += DecodeUtf8(t, i, &c);
        int b = UnicodeToByte(c);
        if (b < 0) ok = false;
        else bytes.push_back(static_cast<char>(b));
      }
      if (!ok) bytes.replace(start, std::string::npos, t);  // not byte-level: raw bytes
    }
    tokens->assign(1, Utf8Lossy(bytes));
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string rep, bool prepend) : rep_(std::move(rep)), prepend_(prepend) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (size_t i = 0; i < tokens->size(); ++i) {
      (*tokens)[i] = ReplaceAll((*tokens)[i], rep_, i == 0 && prepend_ ? "" : " ");
    }
  }

 private:
  std::string rep_;
  bool prepend_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(std::unique_ptr<Regex> re, std::string content)
      : re_(std::move(re)), content_(std::move(content)) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::vector<std::pair<size_t, size_t>> m;
    for (auto& t : *tokens) {
      m.clear();
      if (!IsValidUtf8(t) || !re_->FindAll(t, &m).ok() || m.empty()) continue;
      std::string out;
      size_t prev = 0;
      for (auto [b, e] : m) {
        out.append(t, prev, b - prev);
        out += content_;
        prev = e;
      }
      out.append(t, prev, std::string::npos);
      t.swap(out);
    }
  }

 private:
  std::unique_ptr<Regex> re_;
  std::string content_;
};

// "<0xAB>" -> 0xAB, else -1.
int ParseByteToken(const std::string& t) {
  if (t.size() != 6 || t[0] != '<' || t[1] != '0' || t[2] != 'x' || t[5] != '>') return -1;
  auto hex = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  int h = hex(t[3]), l = hex(t[4]);
  return h < 0 || l < 0 ? -1 : h * 16 + l;
}

class ByteFallbackDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::vector<std::string> out;
    std::string bytes;
    size_t nbytes = 0;
    auto flush = [&] {
      if (nbytes == 0) return;
      if (IsValidUtf8(bytes)) {
        out.push_back(bytes);
      } else {
        for (size_t k = 0; k < nbytes; ++k) out.push_back(kReplacementChar);
      }
      bytes.clear();
      nbytes = 0;
    };
    for (auto& t : *tokens) {
      int b = ParseByteToken(t);
      if (b >= 0) {
        bytes.push_back(static_cast<char>(b));
        ++nbytes;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens->swap(out);
  }
};

class FuseDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::string all;
    for (const auto& t : *tokens) all += t;
    tokens->assign(1, std::move(all));
  }
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (auto& t : *tokens) {
      size_t b = 0, e = t.size();
      for (size_t k = 0; k < start_ && t.compare(b, content_.size(), content_) == 0 &&
                         b < e; ++k) b += content_.size();
      for (size_t k = 0; k < stop_ && e >= b + content_.size() &&
                         t.compare(e - content_.size(), content_.size(), content_) == 0; ++k) {
        e -= content_.size();
      }
      t = t.substr(b, e - b);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (size_t i = 0; i < tokens->size(); ++i) {
      std::string& t = (*tokens)[i];
      if (i != 0) {
        if (t.compare(0, prefix_.size(), prefix_) == 0) t.erase(0, prefix_.size());
        else t.insert(0, " ");
      }
      if (cleanup_) t = CleanUpTokenization(std::move(t));
    }
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class BpeSuffixDecoder : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (size_t i = 0; i < tokens->size(); ++i) {
      (*tokens)[i] = ReplaceAll((*tokens)[i], suffix_, i + 1 == tokens->size() ? "" : " ");
    }
  }

 private:
  std::string suffix_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> v) : v_(std::move(v)) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (const auto& d : v_) d->DecodeChain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> v_;
};

using DecPtr = std::unique_ptr<Decoder>;

}  // namespace

std::string CleanUpTokenization(std::string s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) s = ReplaceAll(std::move(s), from, to);
  return s;
}

std::unique_ptr<Decoder> MakeByteLevelDecoder() { return DecPtr(new ByteLevelDecoder()); }

StatusOr<std::unique_ptr<Decoder>> ParseDecoder(const json& j) {
  NestingGuard guard;
  if (guard.too_deep()) return InvalidArgumentError("components nested too deeply");
  if (j.is_null()) return DecPtr();
  ASSIGN_OR_RETURN(std::string type, GetString(j, "type"));
  if (type == "ByteLevel") return MakeByteLevelDecoder();
  if (type == "ByteFallback") return DecPtr(new ByteFallbackDecoder());
  if (type == "Fuse") return DecPtr(new FuseDecoder());
  if (type == "Metaspace") {
    std::string scheme = GetStringOr(j, "prepend_scheme", "");
    bool prepend = scheme.empty() ? GetBool(j, "add_prefix_space", true) : scheme != "never";
    return DecPtr(new MetaspaceDecoder(GetStringOr(j, "replacement", "\xE2\x96\x81"), prepend));
  }
  if (type == "Replace") {
    ASSIGN_OR_RETURN(auto re, ParsePattern(j));
    ASSIGN_OR_RETURN(std::string content, GetString(j, "content"));
    return DecPtr(new ReplaceDecoder(std::move(re), std::move(content)));
  }
  if (type == "Strip") {
    std::string content = GetStringOr(j, "content", " ");
    int64_t start = GetInt(j, "start", 0), stop = GetInt(j, "stop", 0);
    if (start < 0 || stop < 0) return InvalidArgumentError("Strip decoder with negative counts");
    return DecPtr(new StripDecoder(content, start, stop));
  }
  if (type == "WordPiece") {
    return DecPtr(new WordPieceDecoder(GetStringOr(j, "prefix", "##"), GetBool(j, "cleanup", true)));
  }
  if (type == "BPEDecoder") return DecPtr(new BpeSuffixDecoder(GetStringOr(j, "suffix", "</w>")));
  if (type == "Sequence") {
    if (!j.contains("decoders") || !j["decoders"].is_array()) {
      return InvalidArgumentError("Sequence decoder without a 'decoders' array");
    }
    std::vector<DecPtr> v;
    for (const auto& e : j["decoders"]) {
      ASSIGN_OR_RETURN(auto d, ParseDecoder(e));
      if (d) v.push_back(std::move(d));
    }
    return DecPtr(new SequenceDecoder(std::move(v)));
  }
  return UnimplementedError("unsupported decoder type '" + type + "'");
}

}  // namespace pagellm::tokenizer

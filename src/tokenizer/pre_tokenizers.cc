#include "tokenizer/pre_tokenizers.h"

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>

#include "tokenizer/json_util.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {

using nlohmann::json;

namespace {

enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Range {
  size_t b, e;
  bool is_match;
};

StatusOr<Behavior> ParseBehavior(const std::string& s) {
  if (s == "Removed") return Behavior::kRemoved;
  if (s == "Isolated") return Behavior::kIsolated;
  if (s == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (s == "MergedWithNext") return Behavior::kMergedWithNext;
  if (s == "Contiguous") return Behavior::kContiguous;
  return InvalidArgumentError("unknown split behavior '" + s + "'");
}

// Turns match ranges (covering the text in order) into the pieces HF keeps for `behavior`.
std::vector<std::pair<size_t, size_t>> ApplyBehavior(const std::vector<Range>& m, Behavior bh) {
  std::vector<std::pair<size_t, size_t>> out;
  bool prev_match = false;
  switch (bh) {
    case Behavior::kRemoved:
      for (const auto& r : m) if (!r.is_match) out.emplace_back(r.b, r.e);
      break;
    case Behavior::kIsolated:
      for (const auto& r : m) out.emplace_back(r.b, r.e);
      break;
    case Behavior::kMergedWithPrevious:
      for (const auto& r : m) {
        if (r.is_match && !prev_match && !out.empty()) out.back().second = r.e;
        else out.emplace_back(r.b, r.e);
        prev_match = r.is_match;
      }
      break;
    case Behavior::kMergedWithNext:
      for (auto it = m.rbegin(); it != m.rend(); ++it) {
        if (it->is_match && !prev_match && !out.empty()) out.back().first = it->b;
        else out.emplace_back(it->b, it->e);
        prev_match = it->is_match;
      }
      std::reverse(out.begin(), out.end());
      break;
    case Behavior::kContiguous:
      for (const auto& r : m) {
        if (r.is_match == prev_match && !out.empty()) out.back().second = r.e;
        else out.emplace_back(r.b, r.e);
        prev_match = r.is_match;
      }
      break;
  }
  return out;
}

// Splits every split by `find` (which reports match ranges) and `behavior`.
using Finder = std::function<Status(const std::string&, std::vector<Range>*)>;
Status SplitAll(std::vector<PreTokenSplit>* splits, const Finder& find, Behavior bh) {
  std::vector<PreTokenSplit> out;
  out.reserve(splits->size() * 2);
  std::vector<Range> ranges;
  for (auto& s : *splits) {
    ranges.clear();
    RETURN_IF_ERROR(find(s.text, &ranges));
    for (auto [b, e] : ApplyBehavior(ranges, bh)) {
      if (e > b) out.push_back({s.text.substr(b, e - b), s.at_start && b == 0});
    }
  }
  splits->swap(out);
  return OkStatus();
}

// Match ranges of a regex, with the gaps as non-matches; `invert` swaps the two.
Status RegexRanges(const Regex& re, bool invert, const std::string& s, std::vector<Range>* out) {
  std::vector<std::pair<size_t, size_t>> m;
  RETURN_IF_ERROR(re.FindAll(s, &m));
  size_t prev = 0;
  for (auto [b, e] : m) {
    if (b > prev) out->push_back({prev, b, invert});
    out->push_back({b, e, !invert});
    prev = e;
  }
  if (prev < s.size()) out->push_back({prev, s.size(), invert});
  return OkStatus();
}

// Each character satisfying `pred` is a match of its own.
Status CharRanges(const std::function<bool(char32_t)>& pred, const std::string& s,
                  std::vector<Range>* out) {
  size_t prev = 0;
  for (size_t i = 0; i < s.size();) {
    char32_t c;
    int n = DecodeUtf8(s, i, &c);
    if (pred(c)) {
      if (i > prev) out->push_back({prev, i, false});
      out->push_back({i, i + n, true});
      prev = i + n;
    }
    i += n;
  }
  if (prev < s.size()) out->push_back({prev, s.size(), false});
  return OkStatus();
}

class RegexSplit : public PreTokenizer {
 public:
  RegexSplit(std::unique_ptr<Regex> re, Behavior bh, bool invert)
      : re_(std::move(re)), bh_(bh), invert_(invert) {}
  Status PreTokenize(std::vector<PreTokenSplit>* splits) const override {
    return SplitAll(splits, [this](const std::string& s, std::vector<Range>* r) {
      return RegexRanges(*re_, invert_, s, r);
    }, bh_);
  }

 private:
  std::unique_ptr<Regex> re_;
  Behavior bh_;
  bool invert_;
};

class CharSplit : public PreTokenizer {
 public:
  CharSplit(std::function<bool(char32_t)> pred, Behavior bh) : pred_(std::move(pred)), bh_(bh) {}
  Status PreTokenize(std::vector<PreTokenSplit>* splits) const override {
    return SplitAll(splits, [this](const std::string& s, std::vector<Range>* r) {
      return CharRanges(pred_, s, r);
    }, bh_);
  }

 private:
  std::function<bool(char32_t)> pred_;
  Behavior bh_;
};

constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) re_ = std::move(Regex::Compile(kGpt2Pattern)).value();
  }
  Status PreTokenize(std::vector<PreTokenSplit>* splits) const override {
    if (add_prefix_space_) {
      for (auto& s : *splits) if (s.text.empty() || s.text[0] != ' ') s.text.insert(0, " ");
    }
    if (re_) {
      RETURN_IF_ERROR(SplitAll(splits, [this](const std::string& s, std::vector<Range>* r) {
        return RegexRanges(*re_, false, s, r);
      }, Behavior::kIsolated));
    }
    std::string mapped;
    for (auto& s : *splits) {
      mapped.clear();
      for (unsigned char c : s.text) mapped += ByteToUnicode(c);
      s.text.swap(mapped);
    }
    return OkStatus();
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> re_;
};

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string rep, std::string scheme, bool split)
      : rep_(std::move(rep)), scheme_(std::move(scheme)), split_(split) {
    split_re_ = std::move(Regex::Literal(rep_)).value();
  }
  Status PreTokenize(std::vector<PreTokenSplit>* splits) const override {
    for (auto& s : *splits) {
      std::string out;
      for (char c : s.text) {
        if (c == ' ') out.append(rep_);
        else out.push_back(c);
      }
      bool starts = out.compare(0, rep_.size(), rep_) == 0;
      if (!starts && (scheme_ == "always" || (scheme_ == "first" && s.at_start))) {
        out.insert(0, rep_);
      }
      s.text.swap(out);
    }
    if (!split_) return OkStatus();
    return SplitAll(splits, [this](const std::string& s, std::vector<Range>* r) {
      return RegexRanges(*split_re_, false, s, r);
    }, Behavior::kMergedWithNext);
  }

 private:
  std::string rep_, scheme_;
  bool split_;
  std::unique_ptr<Regex> split_re_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> v) : v_(std::move(v)) {}
  Status PreTokenize(std::vector<PreTokenSplit>* splits) const override {
    for (const auto& p : v_) RETURN_IF_ERROR(p->PreTokenize(splits));
    return OkStatus();
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> v_;
};

using PreTokPtr = std::unique_ptr<PreTokenizer>;

StatusOr<PreTokPtr> ParseSplit(const json& j) {
  ASSIGN_OR_RETURN(auto re, ParsePattern(j));
  ASSIGN_OR_RETURN(Behavior bh, ParseBehavior(GetStringOr(j, "behavior", "Isolated")));
  return PreTokPtr(new RegexSplit(std::move(re), bh, GetBool(j, "invert", false)));
}

StatusOr<PreTokPtr> ParseMetaspace(const json& j) {
  std::string rep = GetStringOr(j, "replacement", "\xE2\x96\x81");
  if (rep.empty()) return InvalidArgumentError("Metaspace replacement is empty");
  std::string scheme = GetStringOr(j, "prepend_scheme", "");
  if (scheme.empty()) scheme = GetBool(j, "add_prefix_space", true) ? "always" : "never";
  if (scheme != "always" && scheme != "first" && scheme != "never") {
    return InvalidArgumentError("unknown Metaspace prepend_scheme '" + scheme + "'");
  }
  return PreTokPtr(new MetaspacePreTokenizer(rep, scheme, GetBool(j, "split", true)));
}

}  // namespace

std::unique_ptr<PreTokenizer> MakeByteLevelPreTokenizer(bool add_prefix_space, bool use_regex) {
  return PreTokPtr(new ByteLevelPreTokenizer(add_prefix_space, use_regex));
}

StatusOr<std::unique_ptr<PreTokenizer>> ParsePreTokenizer(const json& j) {
  NestingGuard guard;
  if (guard.too_deep()) return InvalidArgumentError("components nested too deeply");
  if (j.is_null()) return PreTokPtr();
  ASSIGN_OR_RETURN(std::string type, GetString(j, "type"));
  if (type == "ByteLevel") {
    return MakeByteLevelPreTokenizer(GetBool(j, "add_prefix_space", true),
                                     GetBool(j, "use_regex", true));
  }
  if (type == "Split") return ParseSplit(j);
  if (type == "Metaspace") return ParseMetaspace(j);
  if (type == "Whitespace") {
    ASSIGN_OR_RETURN(auto re, Regex::Compile(R"(\w+|[^\w\s]+)"));
    return PreTokPtr(new RegexSplit(std::move(re), Behavior::kRemoved, /*invert=*/true));
  }
  if (type == "WhitespaceSplit") return PreTokPtr(new CharSplit(IsWhitespace, Behavior::kRemoved));
  if (type == "Punctuation") {
    ASSIGN_OR_RETURN(Behavior bh, ParseBehavior(GetStringOr(j, "behavior", "Isolated")));
    return PreTokPtr(new CharSplit(IsPunctuation, bh));
  }
  if (type == "Digits") {
    bool individual = GetBool(j, "individual_digits", false);
    return PreTokPtr(new CharSplit(IsNumeric, individual ? Behavior::kIsolated
                                                         : Behavior::kContiguous));
  }
  if (type == "CharDelimiterSplit") {
    ASSIGN_OR_RETURN(std::string d, GetString(j, "delimiter"));
    char32_t dc = 0;
    if (d.empty() || !IsValidUtf8(d)) return InvalidArgumentError("bad CharDelimiterSplit delimiter");
    DecodeUtf8(d, 0, &dc);
    return PreTokPtr(new CharSplit([dc](char32_t c) { return c == dc; }, Behavior::kRemoved));
  }
  if (type == "BertPreTokenizer") {
    std::vector<PreTokPtr> v;
    v.push_back(PreTokPtr(new CharSplit(IsWhitespace, Behavior::kRemoved)));
    v.push_back(PreTokPtr(new CharSplit(IsPunctuation, Behavior::kIsolated)));
    return PreTokPtr(new SequencePreTokenizer(std::move(v)));
  }
  if (type == "Sequence") {
    if (!j.contains("pretokenizers") || !j["pretokenizers"].is_array()) {
      return InvalidArgumentError("Sequence pre-tokenizer without a 'pretokenizers' array");
    }
    std::vector<PreTokPtr> v;
    for (const auto& e : j["pretokenizers"]) {
      ASSIGN_OR_RETURN(auto p, ParsePreTokenizer(e));
      if (p) v.push_back(std::move(p));
    }
    return PreTokPtr(new SequencePreTokenizer(std::move(v)));
  }
  return UnimplementedError("unsupported pre-tokenizer type '" + type + "'");
}

}  // namespace pagellm::tokenizer

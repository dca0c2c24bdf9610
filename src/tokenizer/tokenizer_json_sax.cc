#include "tokenizer/tokenizer_json_sax.h"

namespace pagellm::tokenizer {

using nlohmann::json;

namespace {

class Sax : public nlohmann::json_sax<json> {
 public:
  Sax(json* root, ModelTables* t) : dom_(*root, /*allow_exceptions=*/false), t_(t) {}

  bool null() override { return Capturing() ? Bad("null") : dom_.null(); }
  bool boolean(bool v) override { return Capturing() ? Bad("bool") : dom_.boolean(v); }
  bool number_integer(number_integer_t v) override {
    if (mode_ == kVocab) return AddVocab(v);
    return Capturing() ? Bad("number") : dom_.number_integer(v);
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (mode_ == kVocab) return AddVocab(static_cast<int64_t>(std::min<uint64_t>(v, INT64_MAX)));
    return Capturing() ? Bad("number") : dom_.number_unsigned(v);
  }
  bool number_float(number_float_t v, const string_t& s) override {
    return Capturing() ? Bad("float") : dom_.number_float(v, s);
  }
  bool string(string_t& v) override {
    if (mode_ == kMerges) return AddLegacyMerge(v);
    if (mode_ == kMergePair) {
      pair_.push_back(std::move(v));
      return true;
    }
    return Capturing() ? Bad("string") : dom_.string(v);
  }
  bool binary(binary_t& v) override { return Capturing() ? Bad("binary") : dom_.binary(v); }
  bool start_object(std::size_t n) override {
    if (Capturing()) return Bad("object");
    if (path_.size() == 2 && path_[0] == "model" && path_[1] == "vocab") {
      mode_ = kVocab;
      t_->has_vocab = true;
      if (n != static_cast<std::size_t>(-1)) t_->vocab.reserve(n);
      return dom_.null();
    }
    path_.push_back("");
    return dom_.start_object(n);
  }
  bool key(string_t& k) override {
    if (mode_ == kVocab) {
      key_ = std::move(k);
      return true;
    }
    if (Capturing()) return Bad("key");
    path_.back() = k;
    return dom_.key(k);
  }
  bool end_object() override {
    if (mode_ == kVocab) {
      mode_ = kNone;
      return true;
    }
    path_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) override {
    if (mode_ == kMerges) {
      mode_ = kMergePair;
      pair_.clear();
      return true;
    }
    if (Capturing()) return Bad("array");
    if (path_.size() == 2 && path_[0] == "model" && path_[1] == "merges") {
      mode_ = kMerges;
      t_->has_merges = true;
      return dom_.null();
    }
    path_.push_back("[]");  // arrays do not name children; keeps depth right
    return dom_.start_array(n);
  }
  bool end_array() override {
    if (mode_ == kMergePair) {
      if (pair_.size() != 2) return Bad("merge pair");
      t_->merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      mode_ = kMerges;
      return true;
    }
    if (mode_ == kMerges) {
      mode_ = kNone;
      return true;
    }
    path_.pop_back();
    return dom_.end_array();
  }
  bool parse_error(std::size_t pos, const std::string& tok,
                   const nlohmann::detail::exception& ex) override {
    if (t_->error.empty()) t_->error = ex.what();
    return false;
  }

 private:
  enum Mode { kNone, kVocab, kMerges, kMergePair };
  bool Capturing() const { return mode_ != kNone; }
  bool Bad(const char* what) {
    if (t_->error.empty()) {
      t_->error = std::string("unexpected ") + what + " in model " +
                  (mode_ == kVocab ? "vocab" : "merges");
    }
    return false;
  }
  bool AddVocab(int64_t v) {
    t_->vocab.emplace_back(std::move(key_), v);
    return true;
  }
  bool AddLegacyMerge(const std::string& s) {
    size_t sp = s.find(' ');
    if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
      return Bad("merge string (want \"a b\")");
    }
    t_->merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  ModelTables* t_;
  std::vector<std::string> path_;  // key at each open container ("" / "[]" when none)
  Mode mode_ = kNone;
  std::string key_;
  std::vector<std::string> pair_;
};

}  // namespace

StatusOr<json> ParseTokenizerJson(std::string_view text, ModelTables* tables) {
  json root;
  Sax sax(&root, tables);
  bool ok = false;
  try {
    ok = json::sax_parse(text, &sax);
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("malformed tokenizer.json: ") + e.what());
  }
  if (!ok || !tables->error.empty()) {
    return InvalidArgumentError("malformed tokenizer.json: " +
                                (tables->error.empty() ? std::string("parse error") : tables->error));
  }
  return root;
}

}  // namespace pagellm::tokenizer

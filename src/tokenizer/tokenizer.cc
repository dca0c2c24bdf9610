#include "tokenizer/tokenizer.h"

#include "base/file.h"
#include "base/logging.h"
#include "tokenizer/backend.h"
#include "tokenizer/hf_tokenizer.h"

namespace pagellm::tokenizer {

namespace {

class HfBackend : public TokenizerBackend {
 public:
  explicit HfBackend(std::unique_ptr<HfTokenizer> t) : t_(std::move(t)) {}
  StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_special) const override {
    return t_->Encode(text, add_special);
  }
  std::string Decode(std::span<const int32_t> ids, bool skip_special) const override {
    return t_->Decode(ids, skip_special);
  }
  std::optional<int32_t> TokenToId(std::string_view token) const override {
    return t_->TokenToId(token);
  }
  std::optional<std::string> IdToToken(int32_t id) const override {
    const std::string* s = t_->IdToToken(id);
    return s ? std::optional<std::string>(*s) : std::nullopt;
  }
  size_t VocabSize() const override { return t_->VocabSize(); }
  bool IsSpecial(int32_t id) const override { return t_->IsSpecial(id); }
  bool IsAdded(int32_t id) const override { return t_->added_vocabulary().FindById(id) != nullptr; }
  std::vector<int32_t> SpecialIds() const override {
    std::vector<int32_t> v;
    for (const auto& a : t_->added_vocabulary().tokens()) if (a.special) v.push_back(a.id);
    return v;
  }
  const HfTokenizer* hf() const override { return t_.get(); }

 private:
  std::unique_ptr<HfTokenizer> t_;
};

// transformers' Llama/Gemma fast tokenizers rebuild the post-processor from add_bos_token /
// add_eos_token (defaults: BOS yes, EOS no) instead of using tokenizer.json's.
bool RebuildsPostProcessor(const std::string& cls) {
  static const char* kClasses[] = {"LlamaTokenizer", "LlamaTokenizerFast", "GemmaTokenizer",
                                   "GemmaTokenizerFast", "CodeLlamaTokenizer",
                                   "CodeLlamaTokenizerFast"};
  for (const char* c : kClasses) if (cls == c) return true;
  return false;
}

StatusOr<std::string> ReadIfExists(const std::string& path) {
  if (!FileExists(path)) return NotFoundError(path);
  return ReadFileToString(path);
}

}  // namespace

std::unique_ptr<TokenizerBackend> MakeHfBackend(std::unique_ptr<HfTokenizer> t) {
  return std::make_unique<HfBackend>(std::move(t));
}

Tokenizer::~Tokenizer() = default;

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& dir) {
  if (!IsDirectory(dir)) return NotFoundError("tokenizer directory not found: " + dir);
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  if (auto cfg_text = ReadIfExists(JoinPath(dir, "tokenizer_config.json")); cfg_text.ok()) {
    ASSIGN_OR_RETURN(t->config_, ParseTokenizerConfig(*cfg_text));
  }
  if (t->config_.chat_templates.empty()) {  // newer checkpoints keep it in its own file
    if (auto jinja = ReadIfExists(JoinPath(dir, "chat_template.jinja")); jinja.ok()) {
      t->config_.chat_templates.emplace_back("default", *jinja);
    }
  }
  const TokenizerConfig& cfg = t->config_;
  const std::string json_path = JoinPath(dir, "tokenizer.json");
  const std::string sp_path = JoinPath(dir, "tokenizer.model");
  if (FileExists(json_path)) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(json_path));
    auto hf = HfTokenizer::FromJson(text);
    if (!hf.ok()) return hf.status().WithContext(json_path);
    t->backend_ = MakeHfBackend(std::move(hf).value());
    t->format_ = TokenizerFormat::kHfJson;
  } else if (FileExists(sp_path)) {
    ASSIGN_OR_RETURN(t->backend_,
                     LoadSentencePieceBackend(sp_path, cfg.add_bos_token.value_or(true),
                                              cfg.add_eos_token.value_or(false), cfg.added_tokens));
    t->format_ = TokenizerFormat::kSentencePiece;
  } else if (FileExists(JoinPath(dir, "vocab.json")) && FileExists(JoinPath(dir, "merges.txt"))) {
    ASSIGN_OR_RETURN(std::string vocab, ReadFileToString(JoinPath(dir, "vocab.json")));
    ASSIGN_OR_RETURN(std::string merges, ReadFileToString(JoinPath(dir, "merges.txt")));
    ASSIGN_OR_RETURN(auto hf, HfTokenizer::FromGpt2Files(vocab, merges));
    t->backend_ = MakeHfBackend(std::move(hf));
    t->format_ = TokenizerFormat::kGpt2Files;
  } else {
    return NotFoundError("no tokenizer.json, tokenizer.model or vocab.json+merges.txt in " + dir);
  }
  RETURN_IF_ERROR(t->Init());
  return t;
}

Status Tokenizer::Init() {
  auto id_of = [this](const std::optional<std::string>& tok) -> std::optional<int32_t> {
    return tok ? TokenToId(*tok) : std::nullopt;
  };
  bos_id_ = id_of(config_.bos_token);
  eos_id_ = id_of(config_.eos_token);
  pad_id_ = id_of(config_.pad_token);
  unk_id_ = id_of(config_.unk_token);
  if (format_ == TokenizerFormat::kSentencePiece) {  // transformers' LlamaTokenizer defaults
    if (!bos_id_) bos_id_ = TokenToId("<s>");
    if (!eos_id_) eos_id_ = TokenToId("</s>");
    if (!unk_id_) unk_id_ = TokenToId("<unk>");
  }
  if (format_ == TokenizerFormat::kGpt2Files) {  // GPT-2 defaults every special to <|endoftext|>
    auto eot = TokenToId("<|endoftext|>");
    if (!bos_id_) bos_id_ = eot;
    if (!eos_id_) eos_id_ = eot;
    if (!unk_id_) unk_id_ = eot;
  }
  if (format_ == TokenizerFormat::kHfJson && RebuildsPostProcessor(config_.tokenizer_class)) {
    std::vector<int32_t> prefix, suffix;
    if (config_.add_bos_token.value_or(true) && bos_id_) prefix.push_back(*bos_id_);
    if (config_.add_eos_token.value_or(false) && eos_id_) suffix.push_back(*eos_id_);
    post_override_ = MakeAffixProcessor(std::move(prefix), std::move(suffix));
  }
  return OkStatus();
}

StatusOr<std::vector<int32_t>> Tokenizer::Encode(std::string_view text,
                                                 bool add_special_tokens) const {
  if (!post_override_ || !add_special_tokens) return backend_->Encode(text, add_special_tokens);
  ASSIGN_OR_RETURN(std::vector<int32_t> ids, backend_->Encode(text, false));
  post_override_->Process(&ids);
  return ids;
}

const HfTokenizer* Tokenizer::hf_pipeline() const { return backend_->hf(); }

std::string Tokenizer::DecodeWithSpaces(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  size_t run_start = 0;
  auto flush = [&](size_t end) {
    if (end > run_start) {
      if (!out.empty()) out += ' ';
      out += backend_->Decode(ids.subspan(run_start, end - run_start), skip_special);
    }
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!backend_->IsAdded(ids[i])) continue;
    flush(i);
    run_start = i + 1;
    if (skip_special && backend_->IsSpecial(ids[i])) continue;
    if (!out.empty()) out += ' ';
    out += backend_->Decode(ids.subspan(i, 1), false);
  }
  flush(ids.size());
  return out;
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, const DecodeOptions& o) const {
  std::string text = o.spaces_between_special_tokens
                         ? DecodeWithSpaces(ids, o.skip_special_tokens)
                         : backend_->Decode(ids, o.skip_special_tokens);
  if (o.clean_up_tokenization_spaces.value_or(
          config_.clean_up_tokenization_spaces.value_or(false))) {
    text = CleanUpTokenization(std::move(text));
  }
  return text;
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  DecodeOptions o;
  o.skip_special_tokens = skip_special_tokens;
  return Decode(ids, o);
}

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  return backend_->TokenToId(token);
}
std::optional<std::string> Tokenizer::IdToToken(int32_t id) const {
  return backend_->IdToToken(id);
}
size_t Tokenizer::VocabSize() const { return backend_->VocabSize(); }
bool Tokenizer::IsSpecial(int32_t id) const { return backend_->IsSpecial(id); }
std::vector<int32_t> Tokenizer::SpecialIds() const { return backend_->SpecialIds(); }

std::optional<std::string> Tokenizer::ChatTemplate(std::string_view name) const {
  const auto& ts = config_.chat_templates;
  for (const auto& [n, src] : ts) {
    if (n == (name.empty() ? "default" : name)) return src;
  }
  if (name.empty() && !ts.empty()) return ts.front().second;
  return std::nullopt;
}

}  // namespace pagellm::tokenizer

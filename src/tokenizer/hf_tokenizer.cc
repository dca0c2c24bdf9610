#include "tokenizer/hf_tokenizer.h"

#include <nlohmann/json.hpp>

#include "tokenizer/json_util.h"
#include "tokenizer/tokenizer_json_sax.h"
#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {

using nlohmann::json;

namespace {

StatusOr<std::vector<AddedToken>> ParseAddedTokens(const json& j) {
  std::vector<AddedToken> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return InvalidArgumentError("'added_tokens' must be an array");
  for (const auto& e : j) {
    AddedToken t;
    ASSIGN_OR_RETURN(t.content, GetString(e, "content"));
    int64_t id = GetInt(e, "id", -1);
    if (id < 0 || id > kMaxTokenId) return InvalidArgumentError("added token without a valid id");
    t.id = static_cast<int32_t>(id);
    t.special = GetBool(e, "special", false);
    t.normalized = GetBool(e, "normalized", !t.special);
    t.lstrip = GetBool(e, "lstrip", false);
    t.rstrip = GetBool(e, "rstrip", false);
    t.single_word = GetBool(e, "single_word", false);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

StatusOr<std::unique_ptr<HfTokenizer>> HfTokenizer::FromJson(std::string_view json_text) {
  ModelTables tables;
  ASSIGN_OR_RETURN(json j, ParseTokenizerJson(json_text, &tables));
  if (!j.is_object()) return InvalidArgumentError("tokenizer.json must hold an object");
  std::unique_ptr<HfTokenizer> t(new HfTokenizer());
  // nlohmann may still throw on type mismatches deep inside; keep them inside this module.
  try {
    auto section = [&](const char* k) { return j.contains(k) ? j[k] : json(); };
    ASSIGN_OR_RETURN(t->normalizer_, ParseNormalizer(section("normalizer")));
    ASSIGN_OR_RETURN(t->pre_tokenizer_, ParsePreTokenizer(section("pre_tokenizer")));
    ASSIGN_OR_RETURN(t->model_, ParseModel(section("model"), &tables));
    ASSIGN_OR_RETURN(t->post_, ParsePostProcessor(section("post_processor")));
    ASSIGN_OR_RETURN(t->decoder_, ParseDecoder(section("decoder")));
    ASSIGN_OR_RETURN(auto added, ParseAddedTokens(section("added_tokens")));
    ASSIGN_OR_RETURN(t->added_, AddedVocabulary::Create(std::move(added), t->normalizer_.get()));
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("malformed tokenizer.json: ") + e.what());
  }
  return t;
}

StatusOr<std::unique_ptr<HfTokenizer>> HfTokenizer::FromGpt2Files(std::string_view vocab_json,
                                                                  std::string_view merges_txt) {
  std::unique_ptr<HfTokenizer> t(new HfTokenizer());
  try {
    ASSIGN_OR_RETURN(t->model_, MakeBpeFromFiles(vocab_json, merges_txt));
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("malformed vocab.json: ") + e.what());
  }
  t->pre_tokenizer_ = MakeByteLevelPreTokenizer(/*add_prefix_space=*/false, /*use_regex=*/true);
  t->decoder_ = MakeByteLevelDecoder();
  std::vector<AddedToken> added;
  if (auto id = t->model_->vocab().Find("<|endoftext|>")) {
    added.push_back(AddedToken{"<|endoftext|>", *id, true, false, false, false, false});
  }
  ASSIGN_OR_RETURN(t->added_, AddedVocabulary::Create(std::move(added), nullptr));
  return t;
}

Status HfTokenizer::EncodePiece(const InputPiece& piece, std::vector<int32_t>* ids) const {
  if (!pre_tokenizer_) return model_->Tokenize(piece.text, ids);
  std::vector<PreTokenSplit> splits;
  splits.push_back({piece.text, piece.at_start});
  RETURN_IF_ERROR(pre_tokenizer_->PreTokenize(&splits));
  for (const auto& s : splits) RETURN_IF_ERROR(model_->Tokenize(s.text, ids));
  return OkStatus();
}

StatusOr<std::vector<int32_t>> HfTokenizer::Encode(std::string_view text,
                                                   bool add_special_tokens) const {
  RETURN_IF_ERROR(ValidateUtf8(text));
  std::vector<InputPiece> pieces;
  RETURN_IF_ERROR(added_.ExtractAndNormalize(text, normalizer_.get(), &pieces));
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  for (const auto& p : pieces) {
    if (p.token_id >= 0) {
      ids.push_back(p.token_id);
    } else {
      RETURN_IF_ERROR(EncodePiece(p, &ids));
    }
  }
  if (add_special_tokens && post_) post_->Process(&ids);
  return ids;
}

std::string HfTokenizer::Decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (const AddedToken* a = added_.FindById(id)) {
      if (skip_special_tokens && a->special) continue;
      tokens.push_back(a->content);
    } else if (const std::string* s = model_->vocab().Token(id)) {
      tokens.push_back(*s);
    }
  }
  if (!decoder_) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return Utf8Lossy(out);
  }
  decoder_->DecodeChain(&tokens);
  std::string out;
  for (const auto& t : tokens) out += t;
  return Utf8Lossy(out);
}

std::optional<int32_t> HfTokenizer::TokenToId(std::string_view token) const {
  if (const AddedToken* a = added_.FindByContent(token)) return a->id;
  return model_->vocab().Find(token);
}

const std::string* HfTokenizer::IdToToken(int32_t id) const {
  if (const AddedToken* a = added_.FindById(id)) return &a->content;
  return model_->vocab().Token(id);
}

size_t HfTokenizer::VocabSize() const {
  size_t n = model_->vocab().size();
  for (const auto& t : added_.tokens()) n = std::max(n, static_cast<size_t>(t.id) + 1);
  return n;
}

bool HfTokenizer::IsSpecial(int32_t id) const {
  const AddedToken* a = added_.FindById(id);
  return a != nullptr && a->special;
}

}  // namespace pagellm::tokenizer

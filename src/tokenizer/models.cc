// ParseModel / MakeBpeFromFiles: JSON -> Model.
#include <nlohmann/json.hpp>

#include "tokenizer/bpe_model.h"
#include "tokenizer/json_util.h"
#include "tokenizer/tokenizer_json_sax.h"
#include "tokenizer/unigram_model.h"

namespace pagellm::tokenizer {

using nlohmann::json;

namespace {

StatusOr<Vocab> VocabFromTables(ModelTables* t) {
  Vocab vocab;
  vocab.Reserve(t->vocab.size());
  for (auto& [token, id] : t->vocab) {
    if (id < 0 || id > kMaxTokenId) return InvalidArgumentError("vocab entry '" + token + "' has a bad id");
    vocab.Add(std::move(token), static_cast<int32_t>(id));
  }
  t->vocab.clear();
  return vocab;
}

// The vocab object from the captured tables if present, else from the DOM.
StatusOr<Vocab> ParseVocabObject(const json& v);
StatusOr<Vocab> GetVocab(const json& j, ModelTables* t) {
  if (t != nullptr && t->has_vocab) return VocabFromTables(t);
  return ParseVocabObject(j.value("vocab", json()));
}

StatusOr<Vocab> ParseVocabObject(const json& v) {
  if (!v.is_object()) return InvalidArgumentError("model 'vocab' must be an object");
  Vocab vocab;
  vocab.Reserve(v.size());
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > kMaxTokenId) {
      return InvalidArgumentError("vocab entry '" + it.key() + "' has a bad id");
    }
    vocab.Add(it.key(), static_cast<int32_t>(it.value().get<int64_t>()));
  }
  return vocab;
}

using MergeList = std::vector<std::pair<std::string, std::string>>;

StatusOr<std::pair<std::string, std::string>> SplitMergeLine(std::string_view line, size_t n) {
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos) {
    return InvalidArgumentError("merge " + std::to_string(n) + " is not two tokens: '" +
                                std::string(line) + "'");
  }
  return std::make_pair(std::string(line.substr(0, sp)), std::string(line.substr(sp + 1)));
}

StatusOr<MergeList> ParseMerges(const json& j) {
  MergeList merges;
  if (!j.contains("merges") || j["merges"].is_null()) return merges;
  if (!j["merges"].is_array()) return InvalidArgumentError("model 'merges' must be an array");
  merges.reserve(j["merges"].size());
  for (const auto& m : j["merges"]) {
    if (m.is_string()) {
      ASSIGN_OR_RETURN(auto p, SplitMergeLine(m.get_ref<const std::string&>(), merges.size()));
      merges.push_back(std::move(p));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return InvalidArgumentError("merge " + std::to_string(merges.size()) + " is malformed");
    }
  }
  return merges;
}

StatusOr<std::unique_ptr<Model>> ParseBpe(const json& j, ModelTables* t) {
  ASSIGN_OR_RETURN(Vocab vocab, GetVocab(j, t));
  MergeList merges;
  if (t != nullptr && t->has_merges) {
    merges = std::move(t->merges);
  } else {
    ASSIGN_OR_RETURN(merges, ParseMerges(j));
  }
  BpeOptions o;
  if (j.contains("unk_token") && j["unk_token"].is_string()) o.unk_token = j["unk_token"];
  o.continuing_subword_prefix = GetStringOr(j, "continuing_subword_prefix", "");
  o.end_of_word_suffix = GetStringOr(j, "end_of_word_suffix", "");
  o.fuse_unk = GetBool(j, "fuse_unk", false);
  o.byte_fallback = GetBool(j, "byte_fallback", false);
  o.ignore_merges = GetBool(j, "ignore_merges", false);
  ASSIGN_OR_RETURN(auto m, BpeModel::Create(std::move(vocab), merges, std::move(o)));
  return std::unique_ptr<Model>(std::move(m));
}

StatusOr<std::unique_ptr<Model>> ParseUnigram(const json& j) {
  if (!j.contains("vocab") || !j["vocab"].is_array()) {
    return InvalidArgumentError("Unigram 'vocab' must be an array");
  }
  std::vector<std::pair<std::string, double>> pieces;
  for (const auto& e : j["vocab"]) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number()) {
      return InvalidArgumentError("Unigram vocab entries must be [piece, score]");
    }
    pieces.emplace_back(e[0].get<std::string>(), e[1].get<double>());
  }
  std::optional<int32_t> unk;
  if (j.contains("unk_id") && j["unk_id"].is_number_integer()) unk = j["unk_id"].get<int32_t>();
  ASSIGN_OR_RETURN(auto m, UnigramModel::Create(std::move(pieces), unk,
                                                GetBool(j, "byte_fallback", false)));
  return std::unique_ptr<Model>(std::move(m));
}

StatusOr<std::unique_ptr<Model>> ParseWordPiece(const json& j, ModelTables* t) {
  ASSIGN_OR_RETURN(Vocab vocab, GetVocab(j, t));
  ASSIGN_OR_RETURN(auto m, WordPieceModel::Create(
                               std::move(vocab), GetStringOr(j, "unk_token", "[UNK]"),
                               GetStringOr(j, "continuing_subword_prefix", "##"),
                               static_cast<size_t>(GetInt(j, "max_input_chars_per_word", 100))));
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace

StatusOr<std::unique_ptr<Model>> ParseModel(const json& j, ModelTables* t) {
  if (!j.is_object()) return InvalidArgumentError("'model' must be an object");
  std::string type = GetStringOr(j, "type", "");
  if (type.empty()) {  // old files omit the type; infer it from the fields
    if (j.contains("merges")) type = "BPE";
    else if (j.contains("vocab") && j["vocab"].is_array()) type = "Unigram";
    else if (t != nullptr && t->has_vocab) type = "WordPiece";
    else if (j.contains("vocab")) type = "WordPiece";
  }
  if (type == "BPE") return ParseBpe(j, t);
  if (type == "Unigram") return ParseUnigram(j);
  if (type == "WordPiece") return ParseWordPiece(j, t);
  return UnimplementedError("unsupported model type '" + type + "'");
}

StatusOr<std::unique_ptr<Model>> MakeBpeFromFiles(std::string_view vocab_json,
                                                  std::string_view merges_txt) {
  json v = json::parse(vocab_json, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return InvalidArgumentError("vocab.json is not valid JSON");
  ASSIGN_OR_RETURN(Vocab vocab, ParseVocabObject(v));
  MergeList merges;
  size_t pos = 0;
  while (pos < merges_txt.size()) {
    size_t nl = merges_txt.find('\n', pos);
    if (nl == std::string_view::npos) nl = merges_txt.size();
    std::string_view line = merges_txt.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    ASSIGN_OR_RETURN(auto p, SplitMergeLine(line, merges.size()));
    merges.push_back(std::move(p));
  }
  ASSIGN_OR_RETURN(auto m, BpeModel::Create(std::move(vocab), merges, BpeOptions{}));
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace pagellm::tokenizer

// SentencePiece tokenizer.model backend (libsentencepiece). Control and unknown pieces are
// matched in the input first, the way transformers' slow tokenizers split added tokens, so a
// llama-2 tokenizer.model agrees with its tokenizer.json.
#include <sentencepiece_processor.h>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/backend.h"
#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {

namespace {

constexpr char kSpaceSymbol[] = "\xE2\x96\x81";  // U+2581

class SentencePieceBackend : public TokenizerBackend {
 public:
  Status Init(const std::string& path, bool add_bos, bool add_eos,
              const std::vector<AddedToken>& extra) {
    auto st = sp_.Load(path);
    if (!st.ok()) return InvalidArgumentError("cannot load SentencePiece model " + path + ": " +
                                              st.ToString());
    add_bos_ = add_bos;
    add_eos_ = add_eos;
    vocab_size_ = static_cast<size_t>(sp_.GetPieceSize());
    // tokenizer_config entries first: AddedVocabulary keeps the first entry for an id.
    std::vector<AddedToken> specials = extra;
    for (int i = 0; i < sp_.GetPieceSize(); ++i) {
      if (sp_.IsControl(i) || sp_.IsUnknown(i)) {
        specials.push_back(AddedToken{sp_.IdToPiece(i), i, true, false, false, false, false});
      }
    }
    for (const auto& a : specials) vocab_size_ = std::max<size_t>(vocab_size_, a.id + 1);
    ASSIGN_OR_RETURN(added_, AddedVocabulary::Create(std::move(specials), nullptr));
    return OkStatus();
  }

  StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_special) const override {
    RETURN_IF_ERROR(ValidateUtf8(text));
    std::vector<InputPiece> pieces;
    RETURN_IF_ERROR(added_.ExtractAndNormalize(text, nullptr, &pieces));
    std::vector<int32_t> ids;
    if (add_special && add_bos_ && sp_.bos_id() >= 0) ids.push_back(sp_.bos_id());
    std::vector<int> part;
    for (const auto& p : pieces) {
      if (p.token_id >= 0) {
        ids.push_back(p.token_id);
        continue;
      }
      part.clear();
      auto st = sp_.Encode(p.text, &part);
      if (!st.ok()) return InvalidArgumentError("SentencePiece encode failed: " + st.ToString());
      ids.insert(ids.end(), part.begin(), part.end());
    }
    if (add_special && add_eos_ && sp_.eos_id() >= 0) ids.push_back(sp_.eos_id());
    return ids;
  }

  std::string Decode(std::span<const int32_t> ids, bool skip_special) const override {
    std::string out;
    std::vector<int> run;
    auto flush = [&] {
      if (run.empty()) return;
      std::string text;
      if (!sp_.Decode(run, &text).ok()) text.clear();
      // SentencePiece drops the dummy-prefix space of every run; restore it and strip one
      // space from the very start of the output instead (what the tokenizer.json decoder does).
      if (sp_.IdToPiece(run[0]).rfind(kSpaceSymbol, 0) == 0) out += ' ';
      out += text;
      run.clear();
    };
    for (int32_t id : ids) {
      if (const AddedToken* a = added_.FindById(id)) {
        flush();
        if (!skip_special || !a->special) out += a->content;
      } else if (id >= 0 && id < sp_.GetPieceSize()) {
        run.push_back(id);
      }
    }
    flush();
    if (!out.empty() && out[0] == ' ') out.erase(0, 1);
    return Utf8Lossy(out);
  }

  std::optional<int32_t> TokenToId(std::string_view token) const override {
    if (const AddedToken* a = added_.FindByContent(token)) return a->id;
    int id = sp_.PieceToId(token);
    if (id < 0 || id >= sp_.GetPieceSize() || sp_.IdToPiece(id) != token) return std::nullopt;
    return id;
  }
  std::optional<std::string> IdToToken(int32_t id) const override {
    if (const AddedToken* a = added_.FindById(id)) return a->content;
    if (id < 0 || id >= sp_.GetPieceSize()) return std::nullopt;
    return sp_.IdToPiece(id);
  }
  size_t VocabSize() const override { return vocab_size_; }
  bool IsSpecial(int32_t id) const override {
    const AddedToken* a = added_.FindById(id);
    return a != nullptr && a->special;
  }
  bool IsAdded(int32_t id) const override { return added_.FindById(id) != nullptr; }
  std::vector<int32_t> SpecialIds() const override {
    std::vector<int32_t> v;
    for (const auto& t : added_.tokens()) {
      if (t.special && added_.FindById(t.id) == &t) v.push_back(t.id);
    }
    return v;
  }

 private:
  sentencepiece::SentencePieceProcessor sp_;
  AddedVocabulary added_;
  bool add_bos_ = true, add_eos_ = false;
  size_t vocab_size_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<TokenizerBackend>> LoadSentencePieceBackend(
    const std::string& path, bool add_bos, bool add_eos, const std::vector<AddedToken>& added) {
  auto b = std::make_unique<SentencePieceBackend>();
  RETURN_IF_ERROR(b->Init(path, add_bos, add_eos, added));
  return std::unique_ptr<TokenizerBackend>(std::move(b));
}

}  // namespace pagellm::tokenizer

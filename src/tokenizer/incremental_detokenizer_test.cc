#include "tokenizer/incremental_detokenizer.h"

#include <gtest/gtest.h>

#include "tokenizer/test_util.h"
#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {
namespace {

std::vector<std::pair<std::string, std::unique_ptr<Tokenizer>>> AllTokenizers() {
  std::vector<std::pair<std::string, std::unique_ptr<Tokenizer>>> out;
  for (const auto& name : testing::NpmTokenizerNames()) {
    std::string dir = testing::NpmTokenizerDir(name);
    if (dir.empty()) continue;
    auto t = Tokenizer::Load(dir);
    EXPECT_TRUE(t.ok()) << name << ": " << t.status().ToString();
    if (t.ok()) out.emplace_back(name, std::move(t).value());
  }
  std::string sp = testing::SharedDir() + "/data/tokenizers/llama2-sentencepiece";
  if (FileExists(sp + "/tokenizer.model")) {
    auto t = Tokenizer::Load(sp);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    if (t.ok()) out.emplace_back("llama2-sentencepiece", std::move(t).value());
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

TEST(IncrementalDetokenizerTest, HoldsBackPartialCharacters) {
  std::string dir = testing::NpmTokenizerDir("llama3");
  if (dir.empty()) GTEST_SKIP() << "llama3 not fetched";
  auto tok = Tokenizer::Load(dir);
  ASSERT_TRUE(tok.ok());
  // A rare CJK character is split into byte-level tokens that are not UTF-8 on their own.
  auto ids = (*tok)->Encode("\xF0\xA0\x80\x80", false);  // U+20000
  ASSERT_TRUE(ids.ok());
  ASSERT_GT(ids->size(), 1u);
  IncrementalDetokenizer d(**tok, DecodeOptions{});
  for (size_t i = 0; i + 1 < ids->size(); ++i) EXPECT_EQ(d.Step((*ids)[i]), "");
  EXPECT_EQ(d.Step(ids->back()), "\xF0\xA0\x80\x80");
}

TEST(IncrementalDetokenizerTest, PromptContextKeepsLeadingSpace) {
  std::string sp = testing::SharedDir() + "/data/tokenizers/llama2-sentencepiece";
  if (!FileExists(sp + "/tokenizer.model")) GTEST_SKIP() << "no llama2 tokenizer.model";
  auto tok = Tokenizer::Load(sp);
  ASSERT_TRUE(tok.ok());
  auto prompt = (*tok)->Encode("Hello", true);
  auto gen = (*tok)->Encode("world again", false);
  ASSERT_TRUE(prompt.ok() && gen.ok());
  IncrementalDetokenizer d(**tok, DecodeOptions{true}, *prompt);
  std::string out = d.Step(*gen);
  out += d.Flush();
  EXPECT_EQ(out, " world again");
  // Without context the first token's space is dropped, as one-shot decode does.
  IncrementalDetokenizer d2(**tok, DecodeOptions{true});
  EXPECT_EQ(d2.Step(*gen) + d2.Flush(), "world again");
}

}  // namespace
}  // namespace pagellm::tokenizer

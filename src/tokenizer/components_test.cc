// Unit tests of the pipeline components on the hand-made tokenizers in tiny_tokenizers.h.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/tokenizer_config.h"
#include "tokenizer/tiny_tokenizers.h"
#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {
namespace {

using nlohmann::json;
using Ids = std::vector<int32_t>;

std::unique_ptr<HfTokenizer> Load(const std::string& j) {
  auto t = HfTokenizer::FromJson(j);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

Ids Enc(const HfTokenizer& t, const std::string& s, bool special) {
  auto r = t.Encode(s, special);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Ids{};
}

TEST(ComponentsTest, ByteLevelBpe) {
  auto t = Load(tiny::ByteLevelBpe());
  ASSERT_TRUE(t);
  EXPECT_EQ(Enc(*t, "Hello world", true), (Ids{270, 269, 265}));
  EXPECT_EQ(Enc(*t, "Hello world", false), (Ids{269, 265}));
  EXPECT_EQ(t->Decode(Ids{270, 269, 265}, false), "<|bos|>Hello world");
  EXPECT_EQ(t->Decode(Ids{270, 269, 265}, true), "Hello world");
  // lstrip/rstrip swallow the spaces around <mask>.
  EXPECT_EQ(Enc(*t, "a <mask> b", false), (Ids{'a', 272, 'b'}));
  // single_word: only matched between non-word characters.
  EXPECT_EQ(Enc(*t, "[w]", false), (Ids{273}));
  EXPECT_NE(Enc(*t, "x[w]", false), (Ids{'x', 273}));
  EXPECT_EQ(Enc(*t, "<|eot|><|eot|>", false), (Ids{271, 271}));
  EXPECT_EQ(t->Decode(Enc(*t, "caf\xC3\xA9 \xF0\x9F\x98\x80", false), false),
            "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(t->VocabSize(), 274u);
}

TEST(ComponentsTest, MetaspaceBpeWithByteFallback) {
  auto t = Load(tiny::MetaspaceBpe());
  ASSERT_TRUE(t);
  EXPECT_EQ(Enc(*t, "hello world", true), (Ids{1, 274, 279}));
  EXPECT_EQ(t->Decode(Ids{1, 274, 279}, true), "hello world");
  EXPECT_EQ(t->Decode(Ids{1, 274, 279}, false), "<s> hello world");
  EXPECT_EQ(Enc(*t, "h\xC3\xA9", false), (Ids{271, 3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ(t->Decode(Ids{271, 3 + 0xC3, 3 + 0xA9}, false), "h\xC3\xA9");
  // A lone continuation byte decodes to U+FFFD per byte.
  EXPECT_EQ(t->Decode(Ids{3 + 0xC3, 263}, false), "\xEF\xBF\xBD" "e");
  EXPECT_EQ(Enc(*t, "<s>hello", false), (Ids{1, 274}));
}

TEST(ComponentsTest, Unigram) {
  auto t = Load(tiny::MetaspaceUnigram());
  ASSERT_TRUE(t);
  EXPECT_EQ(Enc(*t, "hello world", true), (Ids{3, 10, 1}));
  EXPECT_EQ(Enc(*t, "hex", false), (Ids{4, 16 + 'x'}));
  EXPECT_EQ(t->Decode(Ids{3, 10, 1}, true), "hello world");
  EXPECT_EQ(t->Decode(Ids{4, 16 + 'x'}, true), "hex");
}

TEST(ComponentsTest, BertWordPiece) {
  auto t = Load(tiny::BertWordPiece());
  ASSERT_TRUE(t);
  EXPECT_EQ(Enc(*t, "Hello, World! unaffable", true), (Ids{2, 4, 10, 5, 9, 6, 7, 8, 3}));
  EXPECT_EQ(Enc(*t, "Caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 xyz", false), (Ids{15, 13, 14, 1}));
  EXPECT_EQ(t->Decode(Ids{2, 4, 10, 5, 9, 6, 7, 8, 3}, true), "hello, world! unaffable");
}

std::vector<std::string> PreTokenize(const json& j, const std::string& text) {
  auto p = ParsePreTokenizer(j);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  std::vector<PreTokenSplit> s = {{text, true}};
  EXPECT_TRUE((*p)->PreTokenize(&s).ok());
  std::vector<std::string> out;
  for (auto& x : s) out.push_back(x.text);
  return out;
}

using Strs = std::vector<std::string>;

TEST(ComponentsTest, SplitBehaviors) {
  auto split = [](const char* behavior, bool invert = false) {
    return json{{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior},
                {"invert", invert}};
  };
  EXPECT_EQ(PreTokenize(split("Removed"), "a-b--c"), (Strs{"a", "b", "c"}));
  EXPECT_EQ(PreTokenize(split("Isolated"), "a-b--c"), (Strs{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(PreTokenize(split("MergedWithPrevious"), "a-b--c"), (Strs{"a-", "b-", "-", "c"}));
  EXPECT_EQ(PreTokenize(split("MergedWithNext"), "a-b--c"), (Strs{"a", "-b", "-", "-c"}));
  EXPECT_EQ(PreTokenize(split("Contiguous"), "a-b--c"), (Strs{"a", "-", "b", "--", "c"}));
  EXPECT_EQ(PreTokenize(split("Removed", true), "a-b--c"), (Strs{"-", "-", "-"}));
}

TEST(ComponentsTest, OtherPreTokenizers) {
  EXPECT_EQ(PreTokenize({{"type", "Whitespace"}}, "Hey friend!  How are you?!?"),
            (Strs{"Hey", "friend", "!", "How", "are", "you", "?!?"}));
  EXPECT_EQ(PreTokenize({{"type", "WhitespaceSplit"}}, "Hey  friend!\tok"),
            (Strs{"Hey", "friend!", "ok"}));
  EXPECT_EQ(PreTokenize({{"type", "Digits"}, {"individual_digits", true}}, "a12b"),
            (Strs{"a", "1", "2", "b"}));
  EXPECT_EQ(PreTokenize({{"type", "Digits"}, {"individual_digits", false}}, "a12b"),
            (Strs{"a", "12", "b"}));
  EXPECT_EQ(PreTokenize({{"type", "Punctuation"}}, "Hi, you!"), (Strs{"Hi", ",", " you", "!"}));
  const std::string sp = "\xE2\x96\x81";
  EXPECT_EQ(PreTokenize({{"type", "Metaspace"}, {"prepend_scheme", "always"}}, "a b"),
            (Strs{sp + "a", sp + "b"}));
  EXPECT_EQ(PreTokenize({{"type", "Metaspace"}, {"prepend_scheme", "never"}, {"split", false}},
                        "a b"),
            (Strs{"a" + sp + "b"}));
  EXPECT_EQ(PreTokenize({{"type", "ByteLevel"}, {"add_prefix_space", true}}, "Hi there"),
            (Strs{"\xC4\xA0Hi", "\xC4\xA0there"}));
}

std::string Normalize(const json& j, std::string s) {
  auto n = ParseNormalizer(j);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_TRUE((*n)->Normalize(&s).ok());
  return s;
}

TEST(ComponentsTest, Normalizers) {
  EXPECT_EQ(Normalize({{"type", "NFKC"}}, "\xEF\xAC\x81\xE2\x91\xA0"), "fi1");
  EXPECT_EQ(Normalize({{"type", "NFC"}}, "e\xCC\x81"), "\xC3\xA9");
  EXPECT_EQ(Normalize({{"type", "NFD"}}, "\xC3\xA9"), "e\xCC\x81");
  EXPECT_EQ(Normalize({{"type", "Lowercase"}}, "\xC3\x80" "B"), "\xC3\xA0" "b");
  EXPECT_EQ(Normalize({{"type", "Sequence"}, {"normalizers", {{{"type", "NFD"}},
                                                               {{"type", "StripAccents"}}}}},
                      "caf\xC3\xA9"),
            "cafe");
  EXPECT_EQ(Normalize({{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}}, "  x \t"),
            "x");
  EXPECT_EQ(Normalize({{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}},
                      "a  \t b"),
            "a b");
  EXPECT_EQ(Normalize({{"type", "Prepend"}, {"prepend", "_"}}, "x"), "_x");
  EXPECT_EQ(Normalize({{"type", "Prepend"}, {"prepend", "_"}}, ""), "");
}

TEST(ComponentsTest, Utf8Helpers) {
  EXPECT_EQ(Utf8Lossy("a\xF0\x9F" "b"), "a\xEF\xBF\xBD" "b");  // truncated: one U+FFFD
  EXPECT_EQ(Utf8Lossy("\xE0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Utf8Lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));
  EXPECT_EQ(CompleteUtf8Prefix("ab\xE4\xB8"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xE4\xB8\xAD"), 5u);
}

TEST(ComponentsTest, MalformedJsonIsAnErrorNotACrash) {
  const std::vector<std::string> bad = {
      "", "{", "[]", "null", "{\"model\": 5}", "{\"model\": {\"type\": \"BPE\", \"vocab\": []}}",
      "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}}}",
      "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}",
      "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [[\"a\"]]}}",
      "{\"model\": {\"type\": \"Nope\"}}",
      "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\"]]}}",
      "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}",
      "{\"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"Regex\": \"(\"}, \"content\": \"\"},"
      " \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}",
      "{\"pre_tokenizer\": {\"type\": \"Split\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {}}}",
      "{\"added_tokens\": [{\"id\": -1, \"content\": \"x\"}], \"model\": {\"type\": \"BPE\", "
      "\"vocab\": {}}}",
      "{\"decoder\": {\"type\": \"Sequence\", \"decoders\": 3}, \"model\": {\"type\": \"BPE\", "
      "\"vocab\": {}}}",
      "{\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": "
      "{\"id\": \"<s>\"}}]}, \"model\": {\"type\": \"BPE\", \"vocab\": {}}}",
  };
  for (const auto& j : bad) {
    auto t = HfTokenizer::FromJson(j);
    EXPECT_FALSE(t.ok()) << j;
  }
  auto unsupported = HfTokenizer::FromJson("{\"model\": {\"type\": \"Nope\"}}");
  EXPECT_EQ(unsupported.status().code(), StatusCode::kUnimplemented);
}

TEST(ComponentsTest, EmptyInputAndUnknownIds) {
  for (const auto& j : tiny::All()) {
    auto t = Load(j);
    ASSERT_TRUE(t);
    auto ids = t->Encode("", false);
    ASSERT_TRUE(ids.ok());
    EXPECT_TRUE(ids->empty());
    EXPECT_EQ(t->Decode(Ids{-5, 1 << 30}, false), "");
    EXPECT_FALSE(t->Encode("\xFF", false).ok());
  }
}

}  // namespace
}  // namespace pagellm::tokenizer

namespace pagellm::tokenizer {
namespace {

TEST(TokenizerConfigTest, ParsesTokensFlagsAndTemplates) {
  auto cfg = ParseTokenizerConfig(R"({
      "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
      "eos_token": "</s>", "pad_token": null, "add_bos_token": true, "add_eos_token": false,
      "model_max_length": 1000000000000000019884624838656, "clean_up_tokenization_spaces": true,
      "tokenizer_class": "LlamaTokenizerFast",
      "chat_template": [{"name": "default", "template": "A"}, {"name": "tool_use", "template": "B"}]
  })");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->bos_token, "<s>");
  EXPECT_EQ(cfg->eos_token, "</s>");
  EXPECT_FALSE(cfg->pad_token.has_value());
  EXPECT_EQ(cfg->add_bos_token, true);
  EXPECT_FALSE(cfg->model_max_length.has_value());
  EXPECT_EQ(cfg->tokenizer_class, "LlamaTokenizerFast");
  ASSERT_EQ(cfg->chat_templates.size(), 2u);
  EXPECT_EQ(cfg->chat_templates[1].first, "tool_use");
  auto plain = ParseTokenizerConfig(R"({"chat_template": "{{ x }}", "model_max_length": 4096})");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->chat_templates[0], (std::pair<std::string, std::string>("default", "{{ x }}")));
  EXPECT_EQ(plain->model_max_length, 4096);
  EXPECT_FALSE(ParseTokenizerConfig("{").ok());
  EXPECT_FALSE(ParseTokenizerConfig(R"({"chat_template": 3})").ok());
}

}  // namespace
}  // namespace pagellm::tokenizer

namespace pagellm::tokenizer {
namespace {

TEST(ComponentsTest, DeeplyNestedSequencesAreRejected) {
  std::string n = "{\"type\": \"NFC\"}";
  for (int i = 0; i < 5000; ++i) n = "{\"type\": \"Sequence\", \"normalizers\": [" + n + "]}";
  auto t = HfTokenizer::FromJson("{\"normalizer\": " + n +
                                 ", \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}");
  EXPECT_FALSE(t.ok());
}

}  // namespace
}  // namespace pagellm::tokenizer

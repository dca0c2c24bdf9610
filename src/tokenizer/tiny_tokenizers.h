// Small hand-made tokenizer.json documents covering each model / component family. Used by the
// unit tests and the fuzz targets (so both run without downloaded files).
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/unicode.h"

namespace pagellm::tokenizer::tiny {

using nlohmann::json;

inline json AddedTok(int id, const std::string& content, bool special, bool normalized = false,
                     bool lstrip = false, bool rstrip = false, bool single_word = false) {
  return {{"id", id}, {"content", content}, {"special", special}, {"normalized", normalized},
          {"lstrip", lstrip}, {"rstrip", rstrip}, {"single_word", single_word}};
}

// Adds merges (in rank order) and their results to `vocab`; returns the merges as [a, b].
inline json AddMerges(json* vocab, const std::vector<std::pair<std::string, std::string>>& m) {
  json merges = json::array();
  for (const auto& [a, b] : m) {
    if (!vocab->contains(a + b)) (*vocab)[a + b] = static_cast<int>(vocab->size());
    merges.push_back(json::array({a, b}));
  }
  return merges;
}

// Llama-3 style: NFC, Split regex + ByteLevel, BPE over the 256 byte symbols, template BOS.
inline std::string ByteLevelBpe() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[ByteToUnicode(static_cast<uint8_t>(b))] = b;
  json merges = AddMerges(&vocab, {{"\xC4\xA0", "t"}, {"h", "e"}, {"\xC4\xA0t", "he"}, {"i", "n"},
                                   {"in", "g"}, {"\xC4\xA0", "w"}, {"o", "r"}, {"\xC4\xA0w", "or"},
                                   {"l", "d"}, {"\xC4\xA0wor", "ld"}, {"H", "e"}, {"l", "l"},
                                   {"He", "ll"}, {"Hell", "o"}});
  int n = static_cast<int>(vocab.size());
  return json{
      {"version", "1.0"},
      {"added_tokens", json::array({AddedTok(n, "<|bos|>", true), AddedTok(n + 1, "<|eot|>", true),
                                    AddedTok(n + 2, "<mask>", true, false, true, true),
                                    AddedTok(n + 3, "[w]", false, true, false, false, true)})},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", json::array({
           {{"type", "Split"}, {"behavior", "Isolated"}, {"invert", false},
            {"pattern", {{"Regex", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
                                   "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                                   "\\s+(?!\\S)|\\s+"}}}},
           {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}}},
      {"post_processor", {{"type", "TemplateProcessing"},
                          {"single", json::array({{{"SpecialToken", {{"id", "<|bos|>"}, {"type_id", 0}}}},
                                                  {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                          {"special_tokens", {{"<|bos|>", {{"id", "<|bos|>"}, {"ids", {n}},
                                                           {"tokens", {"<|bos|>"}}}}}}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"ignore_merges", false}}}}
      .dump();
}

// Llama-2 style: Prepend + Replace normalizers, BPE with byte_fallback, Strip decoder.
inline std::string MetaspaceBpe() {
  const std::string sp = "\xE2\x96\x81";
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    vocab[buf] = 3 + b;
  }
  for (const char* c : {"a", "b", "c", "d", "e", "h", "l", "o", "r", "w", "\xE2\x96\x81"}) {
    vocab[c] = static_cast<int>(vocab.size());
  }
  json merges = AddMerges(&vocab, {{"l", "l"}, {sp, "h"}, {sp + "h", "e"}, {sp + "he", "ll"},
                                   {sp + "hell", "o"}, {"o", "r"}, {sp, "w"}, {sp + "w", "or"},
                                   {sp + "wor", "l"}, {sp + "worl", "d"}});
  return json{
      {"added_tokens", json::array({AddedTok(0, "<unk>", true), AddedTok(1, "<s>", true),
                                    AddedTok(2, "</s>", true)})},
      {"normalizer", {{"type", "Sequence"}, {"normalizers", json::array({
           {{"type", "Prepend"}, {"prepend", sp}},
           {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", sp}}})}}},
      {"pre_tokenizer", nullptr},
      {"post_processor", {{"type", "TemplateProcessing"},
                          {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                                  {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}},
                                                       {"tokens", {"<s>"}}}}}}}},
      {"decoder", {{"type", "Sequence"}, {"decoders", json::array({
           {{"type", "Replace"}, {"pattern", {{"String", sp}}}, {"content", " "}},
           {{"type", "ByteFallback"}}, {{"type", "Fuse"}},
           {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}}},
      {"model", {{"type", "BPE"}, {"unk_token", "<unk>"}, {"fuse_unk", true},
                 {"byte_fallback", true}, {"vocab", vocab}, {"merges", merges}}}}
      .dump();
}

// T5 style: Metaspace pre-tokenizer (prepend_scheme "first") + Unigram with byte_fallback.
inline std::string MetaspaceUnigram() {
  const std::string sp = "\xE2\x96\x81";
  json vocab = json::array({json::array({"<unk>", 0.0}), json::array({"</s>", 0.0})});
  std::vector<std::pair<std::string, double>> pieces = {
      {sp, -2.0}, {sp + "hello", -3.0}, {sp + "he", -4.0}, {"llo", -4.5}, {"h", -5.0},
      {"e", -5.0}, {"l", -5.0}, {"o", -5.0}, {sp + "world", -3.5}, {"w", -5.0}, {"r", -5.0},
      {"d", -5.0}, {sp + "wor", -4.0}, {"ld", -4.0}};
  for (const auto& [p, s] : pieces) vocab.push_back(json::array({p, s}));
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    vocab.push_back(json::array({buf, -10.0}));
  }
  return json{
      {"added_tokens", json::array({AddedTok(0, "<unk>", true), AddedTok(1, "</s>", true)})},
      {"normalizer", {{"type", "Sequence"}, {"normalizers", json::array({
           {{"type", "NFKC"}}, {{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}}})}}},
      {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", sp}, {"prepend_scheme", "first"},
                         {"split", true}}},
      {"post_processor", {{"type", "TemplateProcessing"},
                          {"single", json::array({{{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                                  {{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}}})},
                          {"special_tokens", {{"</s>", {{"id", "</s>"}, {"ids", {1}},
                                                        {"tokens", {"</s>"}}}}}}}},
      {"decoder", {{"type", "Sequence"}, {"decoders", json::array({
           {{"type", "ByteFallback"}},
           {{"type", "Metaspace"}, {"replacement", sp}, {"prepend_scheme", "first"}}})}}},
      {"model", {{"type", "Unigram"}, {"unk_id", 0}, {"byte_fallback", true}, {"vocab", vocab}}}}
      .dump();
}

// BERT style: BertNormalizer + BertPreTokenizer + WordPiece + BertProcessing.
inline std::string BertWordPiece() {
  json vocab = json::object();
  for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "un", "##aff",
                        "##able", "!", ",", "a", "##b", "中", "文", "cafe"}) {
    vocab[t] = static_cast<int>(vocab.size());
  }
  return json{
      {"added_tokens", json::array({AddedTok(0, "[PAD]", true), AddedTok(1, "[UNK]", true),
                                    AddedTok(2, "[CLS]", true), AddedTok(3, "[SEP]", true)})},
      {"normalizer", {{"type", "BertNormalizer"}, {"clean_text", true},
                      {"handle_chinese_chars", true}, {"strip_accents", nullptr},
                      {"lowercase", true}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"post_processor", {{"type", "BertProcessing"}, {"sep", {"[SEP]", 3}}, {"cls", {"[CLS]", 2}}}},
      {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
      {"model", {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"},
                 {"max_input_chars_per_word", 100}, {"vocab", vocab}}}}
      .dump();
}

inline std::vector<std::string> All() {
  return {ByteLevelBpe(), MetaspaceBpe(), MetaspaceUnigram(), BertWordPiece()};
}

}  // namespace pagellm::tokenizer::tiny

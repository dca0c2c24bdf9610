// `pagellm tokenize`: encode text (from --text or stdin) or decode ids with a model's tokenizer.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tokenizer/tokenizer.h"
#include "tools/pagellm/commands.h"

namespace pagellm::cli {

namespace {

struct TokenizeFlags {
  std::string tokenizer;
  std::string text;
  std::string decode;
  bool no_special = false;
  bool skip_special = false;
  bool json = false;
};

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// "1, 2,3" -> ids; false on a malformed list.
bool ParseIds(const std::string& s, std::vector<int32_t>* ids) {
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b == std::string::npos) return false;
    try {
      size_t used = 0;
      long v = std::stol(item.substr(b, e - b + 1), &used);
      if (used != e - b + 1 || v < 0 || v > INT32_MAX) return false;
      ids->push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      return false;
    }
  }
  return !ids->empty();
}

int RunDecode(const tokenizer::Tokenizer& tok, const TokenizeFlags& f) {
  std::vector<int32_t> ids;
  if (!ParseIds(f.decode, &ids)) {
    std::fprintf(stderr, "error: --decode wants comma-separated non-negative ids\n");
    return 2;
  }
  std::string text = tok.Decode(ids, f.skip_special);
  if (f.json) {
    std::printf("%s\n", Dump({{"ids", ids}, {"text", text}}).c_str());
  } else {
    std::printf("%s\n", text.c_str());
  }
  return 0;
}

int RunTokenize(const TokenizeFlags& f) {
  auto tok = tokenizer::Tokenizer::Load(f.tokenizer);
  if (!tok.ok()) {
    std::fprintf(stderr, "error: %s\n", tok.status().ToString().c_str());
    return 1;
  }
  if (!f.decode.empty()) return RunDecode(**tok, f);
  std::string text = f.text;
  if (text.empty()) text.assign(std::istreambuf_iterator<char>(std::cin), {});
  auto ids = (*tok)->Encode(text, !f.no_special);
  if (!ids.ok()) {
    std::fprintf(stderr, "error: %s\n", ids.status().ToString().c_str());
    return 1;
  }
  if (f.json) {
    nlohmann::json tokens = nlohmann::json::array();
    for (int32_t id : *ids) tokens.push_back((*tok)->IdToToken(id).value_or(""));
    std::printf("%s\n", Dump({{"ids", *ids}, {"tokens", tokens}, {"num_tokens", ids->size()}})
                            .c_str());
  } else {
    std::string line;
    for (size_t i = 0; i < ids->size(); ++i) line += (i ? "," : "") + std::to_string((*ids)[i]);
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

}  // namespace

Command RegisterTokenize(CLI::App& app) {
  auto flags = std::make_shared<TokenizeFlags>();
  CLI::App* sub = app.add_subcommand("tokenize", "Encode text or decode token ids");
  sub->add_option("--tokenizer", flags->tokenizer, "Model or tokenizer directory")->required();
  sub->add_option("--text", flags->text, "Text to encode (default: read stdin)");
  sub->add_flag("--no-special-tokens", flags->no_special, "Do not add BOS/EOS/template tokens");
  sub->add_option("--decode", flags->decode, "Decode these comma-separated ids instead");
  sub->add_flag("--skip-special-tokens", flags->skip_special, "Drop special tokens when decoding");
  sub->add_flag("--json", flags->json, "Print JSON (ids, tokens / text)");
  return Command{sub, [flags] { return RunTokenize(*flags); }};
}

}  // namespace pagellm::cli

#include "tokenizer/tokenizer_config.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace pagellm::tokenizer {

using nlohmann::json;

namespace {

// A token field is either a string or an AddedToken dict {"content": ...}.
std::optional<std::string> TokenField(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  return std::nullopt;
}

std::optional<bool> BoolField(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

Status ParseChatTemplates(const json& ct, TokenizerConfig* cfg) {
  if (ct.is_string()) {
    cfg->chat_templates.emplace_back("default", ct.get<std::string>());
    return OkStatus();
  }
  if (!ct.is_array()) return InvalidArgumentError("chat_template must be a string or a list");
  for (const auto& e : ct) {
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string() ||
        !e.contains("template") || !e["template"].is_string()) {
      return InvalidArgumentError("chat_template list entries need 'name' and 'template'");
    }
    cfg->chat_templates.emplace_back(e["name"].get<std::string>(), e["template"].get<std::string>());
  }
  return OkStatus();
}

Status ParseAddedTokensDecoder(const json& d, TokenizerConfig* cfg) {
  if (!d.is_object()) return InvalidArgumentError("added_tokens_decoder must be an object");
  for (auto it = d.begin(); it != d.end(); ++it) {
    const json& e = it.value();
    char* end = nullptr;
    long id = std::strtol(it.key().c_str(), &end, 10);
    if (it.key().empty() || *end != '\0' || id < 0 || id > (1 << 21) || !e.is_object() ||
        !e.contains("content") || !e["content"].is_string()) {
      return InvalidArgumentError("bad added_tokens_decoder entry '" + it.key() + "'");
    }
    auto flag = [&](const char* k, bool def) {
      return e.contains(k) && e[k].is_boolean() ? e[k].get<bool>() : def;
    };
    AddedToken t;
    t.id = static_cast<int32_t>(id);
    t.content = e["content"].get<std::string>();
    t.special = flag("special", false);
    t.normalized = flag("normalized", !t.special);
    t.lstrip = flag("lstrip", false);
    t.rstrip = flag("rstrip", false);
    t.single_word = flag("single_word", false);
    cfg->added_tokens.push_back(std::move(t));
  }
  return OkStatus();
}

}  // namespace

StatusOr<TokenizerConfig> ParseTokenizerConfig(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError("tokenizer_config.json is not a JSON object");
  }
  TokenizerConfig cfg;
  cfg.bos_token = TokenField(j, "bos_token");
  cfg.eos_token = TokenField(j, "eos_token");
  cfg.unk_token = TokenField(j, "unk_token");
  cfg.pad_token = TokenField(j, "pad_token");
  cfg.add_bos_token = BoolField(j, "add_bos_token");
  cfg.add_eos_token = BoolField(j, "add_eos_token");
  cfg.clean_up_tokenization_spaces = BoolField(j, "clean_up_tokenization_spaces");
  if (j.contains("tokenizer_class") && j["tokenizer_class"].is_string()) {
    cfg.tokenizer_class = j["tokenizer_class"].get<std::string>();
  }
  if (j.contains("model_max_length") && j["model_max_length"].is_number()) {
    double v = j["model_max_length"].get<double>();
    if (v > 0 && v < 1e15) cfg.model_max_length = static_cast<int64_t>(v);
  }
  if (j.contains("added_tokens_decoder")) {
    RETURN_IF_ERROR(ParseAddedTokensDecoder(j["added_tokens_decoder"], &cfg));
  }
  if (j.contains("chat_template") && !j["chat_template"].is_null()) {
    RETURN_IF_ERROR(ParseChatTemplates(j["chat_template"], &cfg));
  }
  return cfg;
}

}  // namespace pagellm::tokenizer

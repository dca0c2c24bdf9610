#include "tokenizer/json_util.h"

namespace pagellm::tokenizer {

using nlohmann::json;

StatusOr<std::string> GetString(const json& j, const char* key) {
  if (!j.is_object()) return InvalidArgumentError(std::string("expected an object with '") + key + "'");
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return InvalidArgumentError(std::string("missing or non-string field '") + key + "'");
  }
  return it->get<std::string>();
}

std::string GetStringOr(const json& j, const char* key, const std::string& def) {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : def;
}

bool GetBool(const json& j, const char* key, bool def) {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : def;
}

int64_t GetInt(const json& j, const char* key, int64_t def) {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : def;
}

StatusOr<std::unique_ptr<Regex>> ParsePattern(const json& j) {
  if (!j.is_object() || !j.contains("pattern") || !j["pattern"].is_object()) {
    return InvalidArgumentError("missing 'pattern' object");
  }
  const json& p = j["pattern"];
  if (p.contains("String") && p["String"].is_string()) {
    return Regex::Literal(p["String"].get<std::string>());
  }
  if (p.contains("Regex") && p["Regex"].is_string()) {
    return Regex::Compile(p["Regex"].get<std::string>());
  }
  return InvalidArgumentError("'pattern' must hold a 'String' or 'Regex'");
}

}  // namespace pagellm::tokenizer

// Small checked accessors for tokenizer JSON files (no exceptions escape these).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tokenizer/regex.h"

namespace pagellm::tokenizer {

// j[key] as a string; InvalidArgument if missing or not a string.
StatusOr<std::string> GetString(const nlohmann::json& j, const char* key);
// j[key] as a string, or `def` if missing/null.
std::string GetStringOr(const nlohmann::json& j, const char* key, const std::string& def);
bool GetBool(const nlohmann::json& j, const char* key, bool def);
int64_t GetInt(const nlohmann::json& j, const char* key, int64_t def);
// Compiles j["pattern"] = {"String": s} (literal) or {"Regex": r}.
StatusOr<std::unique_ptr<Regex>> ParsePattern(const nlohmann::json& j);

}  // namespace pagellm::tokenizer

// Small checked accessors for tokenizer JSON files (no exceptions escape these).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tokenizer/regex.h"

namespace pagellm::tokenizer {

// Bounds recursion of nested "Sequence" components (malformed files must not overflow the stack).
class NestingGuard {
 public:
  NestingGuard() { ++Depth(); }
  ~NestingGuard() { --Depth(); }
  NestingGuard(const NestingGuard&) = delete;
  NestingGuard& operator=(const NestingGuard&) = delete;
  bool too_deep() const { return Depth() > 32; }

 private:
  static int& Depth() {
    thread_local int depth = 0;
    return depth;
  }
};

// j[key] as a string; InvalidArgument if missing or not a string.
StatusOr<std::string> GetString(const nlohmann::json& j, const char* key);
// j[key] as a string, or `def` if missing/null.
std::string GetStringOr(const nlohmann::json& j, const char* key, const std::string& def);
bool GetBool(const nlohmann::json& j, const char* key, bool def);
int64_t GetInt(const nlohmann::json& j, const char* key, int64_t def);
// Compiles j["pattern"] = {"String": s} (literal) or {"Regex": r}.
StatusOr<std::unique_ptr<Regex>> ParsePattern(const nlohmann::json& j);

}  // namespace pagellm::tokenizer

// Typed, never-throwing accessors for JSON request fields. A missing or null field leaves the
// output untouched and returns OK; a field of the wrong type or out of range returns
// InvalidArgument naming the field (→ HTTP 400).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace pagellm::server {

using Json = nlohmann::json;

// Parses a request body that must be a JSON object.
StatusOr<Json> ParseJsonObject(const std::string& body);

bool Present(const Json& o, const char* key);  // present and not null
Status GetBool(const Json& o, const char* key, bool* out);
Status GetInt(const Json& o, const char* key, int64_t lo, int64_t hi, int64_t* out);
Status GetInt(const Json& o, const char* key, int lo, int hi, int* out);
Status GetOptInt(const Json& o, const char* key, int lo, int hi, std::optional<int>* out);
Status GetFloat(const Json& o, const char* key, double lo, double hi, float* out);
Status GetString(const Json& o, const char* key, std::string* out);
Status GetOptString(const Json& o, const char* key, std::optional<std::string>* out);
// A string or a list of strings (OpenAI's "stop").
Status GetStringOrList(const Json& o, const char* key, std::vector<std::string>* out);
Status GetStringList(const Json& o, const char* key, std::vector<std::string>* out);
Status GetTokenList(const Json& o, const char* key, std::vector<int32_t>* out);
// A JSON value that must be a list of token ids.
Status ToTokenList(const Json& v, const char* what, std::vector<int32_t>* out);
bool IsTokenList(const Json& v);

}  // namespace pagellm::server

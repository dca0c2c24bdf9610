// Typed, error-reporting access to config JSON (shared by config.cc and config_rope.cc).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config.h"

namespace pagellm::config_internal {

// Parses `text` as a JSON object; errors name `source` and the position.
StatusOr<nlohmann::json> ParseJsonObject(const std::string& text, const std::string& source);

// Reads keys of one JSON object. Each getter takes aliases (first present, non-null key wins),
// leaves *out unchanged when none is present, and errors naming source and key on a wrong type.
class Reader {
 public:
  Reader(const nlohmann::json& j, const std::string& source) : j_(j), source_(source) {}
  using Keys = std::initializer_list<const char*>;
  Status Int(Keys keys, int64_t* out);
  Status OptInt(Keys keys, std::optional<int64_t>* out);
  Status Float(Keys keys, double* out);
  Status OptFloat(Keys keys, std::optional<double>* out);
  Status Bool(Keys keys, bool* out);
  Status String(Keys keys, std::string* out);
  Status IntList(Keys keys, std::vector<int64_t>* out);      // int or list of ints
  Status FloatList(Keys keys, std::vector<double>* out);
  Status StringList(Keys keys, std::vector<std::string>* out);
  const std::string& source() const { return source_; }

 private:
  const nlohmann::json* Find(Keys keys, std::string* key) const;
  Status TypeError(const std::string& key, const char* want) const;
  const nlohmann::json& j_;
  const std::string& source_;
};

// Integer value of a JSON number (integral floats such as 4096.0 accepted).
bool JsonToInt(const nlohmann::json& v, int64_t* out);

// rope_theta / rope_scaling / rope_parameters of `section` into c->rope_theta, c->rope_scaling.
Status ParseRope(const nlohmann::json& section, const std::string& source, ModelConfig* c);

}  // namespace pagellm::config_internal

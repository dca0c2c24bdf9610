#include "server/json_fields.h"

#include <cmath>
#include <limits>

namespace pagellm::server {
namespace {

Status TypeError(const char* key, const char* want) {
  return InvalidArgumentError(std::string("'") + key + "' must be " + want);
}

Status RangeError(const char* key, double lo, double hi) {
  auto fmt = [](double v) {
    if (v == static_cast<double>(static_cast<int64_t>(v)) && std::abs(v) < 1e15) {
      return std::to_string(static_cast<int64_t>(v));
    }
    return std::to_string(v);
  };
  return InvalidArgumentError(std::string("'") + key + "' must be between " + fmt(lo) +
                              " and " + fmt(hi));
}

// An integer value from an integer, or a float with no fractional part (pydantic's lax mode).
bool AsInt64(const Json& v, int64_t* out, bool* overflow) {
  *overflow = false;
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *overflow = true;
      return true;
    }
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d)) return false;
    if (std::abs(d) > 9e18) {
      *overflow = true;
      return true;
    }
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

}  // namespace

StatusOr<Json> ParseJsonObject(const std::string& body) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("request body is not valid JSON");
  if (!j.is_object()) return InvalidArgumentError("request body must be a JSON object");
  return j;
}

bool Present(const Json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && !it->is_null();
}

Status GetBool(const Json& o, const char* key, bool* out) {
  if (!Present(o, key)) return OkStatus();
  const Json& v = o.at(key);
  if (!v.is_boolean()) return TypeError(key, "a boolean");
  *out = v.get<bool>();
  return OkStatus();
}

Status GetInt(const Json& o, const char* key, int64_t lo, int64_t hi, int64_t* out) {
  if (!Present(o, key)) return OkStatus();
  int64_t value = 0;
  bool overflow = false;
  if (!AsInt64(o.at(key), &value, &overflow)) return TypeError(key, "an integer");
  if (overflow || value < lo || value > hi) {
    return RangeError(key, static_cast<double>(lo), static_cast<double>(hi));
  }
  *out = value;
  return OkStatus();
}

Status GetInt(const Json& o, const char* key, int lo, int hi, int* out) {
  int64_t v = *out;
  RETURN_IF_ERROR(GetInt(o, key, static_cast<int64_t>(lo), static_cast<int64_t>(hi), &v));
  *out = static_cast<int>(v);
  return OkStatus();
}

Status GetOptInt(const Json& o, const char* key, int lo, int hi, std::optional<int>* out) {
  if (!Present(o, key)) return OkStatus();
  int v = 0;
  RETURN_IF_ERROR(GetInt(o, key, lo, hi, &v));
  *out = v;
  return OkStatus();
}

Status GetFloat(const Json& o, const char* key, double lo, double hi, float* out) {
  if (!Present(o, key)) return OkStatus();
  const Json& v = o.at(key);
  if (!v.is_number()) return TypeError(key, "a number");
  double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) return RangeError(key, lo, hi);
  *out = static_cast<float>(d);
  return OkStatus();
}

Status GetString(const Json& o, const char* key, std::string* out) {
  if (!Present(o, key)) return OkStatus();
  const Json& v = o.at(key);
  if (!v.is_string()) return TypeError(key, "a string");
  *out = v.get<std::string>();
  return OkStatus();
}

Status GetOptString(const Json& o, const char* key, std::optional<std::string>* out) {
  if (!Present(o, key)) return OkStatus();
  std::string s;
  RETURN_IF_ERROR(GetString(o, key, &s));
  *out = std::move(s);
  return OkStatus();
}

Status GetStringList(const Json& o, const char* key, std::vector<std::string>* out) {
  if (!Present(o, key)) return OkStatus();
  const Json& v = o.at(key);
  if (!v.is_array()) return TypeError(key, "a list of strings");
  out->clear();
  for (const Json& e : v) {
    if (!e.is_string()) return TypeError(key, "a list of strings");
    out->push_back(e.get<std::string>());
  }
  return OkStatus();
}

Status GetStringOrList(const Json& o, const char* key, std::vector<std::string>* out) {
  if (!Present(o, key)) return OkStatus();
  const Json& v = o.at(key);
  if (v.is_string()) {
    *out = {v.get<std::string>()};
    return OkStatus();
  }
  if (!v.is_array()) return TypeError(key, "a string or a list of strings");
  return GetStringList(o, key, out);
}

bool IsTokenList(const Json& v) {
  if (!v.is_array()) return false;
  for (const Json& e : v) {
    if (!e.is_number_integer()) return false;
  }
  return true;
}

Status ToTokenList(const Json& v, const char* what, std::vector<int32_t>* out) {
  if (!v.is_array()) return TypeError(what, "a list of token ids");
  out->clear();
  out->reserve(v.size());
  for (const Json& e : v) {
    int64_t id = 0;
    bool overflow = false;
    if (!AsInt64(e, &id, &overflow)) return TypeError(what, "a list of integer token ids");
    if (overflow || id < 0 || id > std::numeric_limits<int32_t>::max()) {
      return InvalidArgumentError(std::string("'") + what + "' holds an out-of-range token id");
    }
    out->push_back(static_cast<int32_t>(id));
  }
  return OkStatus();
}

Status GetTokenList(const Json& o, const char* key, std::vector<int32_t>* out) {
  if (!Present(o, key)) return OkStatus();
  return ToTokenList(o.at(key), key, out);
}

}  // namespace pagellm::server

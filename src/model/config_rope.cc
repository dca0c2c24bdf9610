// Reader helpers and RoPE scaling parsing for config.json.
#include <cmath>

#include "model/config_internal.h"

namespace pagellm::config_internal {

using json = nlohmann::json;

StatusOr<json> ParseJsonObject(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgumentError(source + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) return InvalidArgumentError(source + ": top level is not a JSON object");
  return j;
}

bool JsonToInt(const json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::abs(d) > 9.0e15) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

const json* Reader::Find(Keys keys, std::string* key) const {
  for (const char* k : keys) {
    auto it = j_.find(k);
    if (it != j_.end() && !it->is_null()) {
      *key = k;
      return &*it;
    }
  }
  return nullptr;
}

Status Reader::TypeError(const std::string& key, const char* want) const {
  return InvalidArgumentError(source_ + ": '" + key + "' must be " + want);
}

Status Reader::Int(Keys keys, int64_t* out) {
  std::string k;
  const json* v = Find(keys, &k);
  if (v != nullptr && !JsonToInt(*v, out)) return TypeError(k, "an integer");
  return OkStatus();
}

Status Reader::OptInt(Keys keys, std::optional<int64_t>* out) {
  std::string k;
  const json* v = Find(keys, &k);
  if (v == nullptr) return OkStatus();
  int64_t x;
  if (!JsonToInt(*v, &x)) return TypeError(k, "an integer");
  *out = x;
  return OkStatus();
}

Status Reader::Float(Keys keys, double* out) {
  std::string k;
  const json* v = Find(keys, &k);
  if (v == nullptr) return OkStatus();
  if (!v->is_number()) return TypeError(k, "a number");
  *out = v->get<double>();
  return OkStatus();
}

Status Reader::OptFloat(Keys keys, std::optional<double>* out) {
  double d = 0;
  std::string k;
  if (Find(keys, &k) == nullptr) return OkStatus();
  RETURN_IF_ERROR(Float(keys, &d));
  *out = d;
  return OkStatus();
}

Status Reader::Bool(Keys keys, bool* out) {
  std::string k;
  const json* v = Find(keys, &k);
  if (v == nullptr) return OkStatus();
  if (!v->is_boolean()) return TypeError(k, "true or false");
  *out = v->get<bool>();
  return OkStatus();
}

Status Reader::String(Keys keys, std::string* out) {
  std::string k;
  const json* v = Find(keys, &k);
  if (v == nullptr) return OkStatus();
  if (!v->is_string()) return TypeError(k, "a string");
  *out = v->get<std::string>();
  return OkStatus();
}

Status Reader::IntList(Keys keys, std::vector<int64_t>* out) {
  std::string k;
  const json* v = Find(keys, &k);
  if (v == nullptr) return OkStatus();
  std::vector<int64_t> r;
  int64_t x;
  if (JsonToInt(*v, &x)) {
    r.push_back(x);
  } else if (v->is_array()) {
    for (const json& e : *v) {
      if (!JsonToInt(e, &x)) return TypeError(k, "an integer or a list of integers");
      r.push_back(x);
    }
  } else {
    return TypeError(k, "an integer or a list of integers");
  }
  *out = std::move(r);
  return OkStatus();
}

Status Reader::FloatList(Keys keys, std::vector<double>* out) {
  std::string k;
  const json* v = Find(keys, &k);
  if (v == nullptr) return OkStatus();
  if (!v->is_array()) return TypeError(k, "a list of numbers");
  out->clear();
  for (const json& e : *v) {
    if (!e.is_number()) return TypeError(k, "a list of numbers");
    out->push_back(e.get<double>());
  }
  return OkStatus();
}

Status Reader::StringList(Keys keys, std::vector<std::string>* out) {
  std::string k;
  const json* v = Find(keys, &k);
  if (v == nullptr) return OkStatus();
  if (!v->is_array()) return TypeError(k, "a list of strings");
  out->clear();
  for (const json& e : *v) {
    if (!e.is_string()) return TypeError(k, "a list of strings");
    out->push_back(e.get<std::string>());
  }
  return OkStatus();
}

namespace {

// The dict that describes RoPE scaling: rope_scaling, else HF's newer rope_parameters (which
// may be keyed by layer type, e.g. {"full_attention": {...}, "sliding_attention": {...}}).
const json* ScalingDict(const json& section, const json** params) {
  *params = nullptr;
  auto rp = section.find("rope_parameters");
  if (rp != section.end() && rp->is_object()) {
    if (rp->contains("rope_type") || rp->contains("type") || rp->contains("rope_theta")) *params = &*rp;
    else if (rp->contains("full_attention") && (*rp)["full_attention"].is_object())
      *params = &(*rp)["full_attention"];
  }
  auto rs = section.find("rope_scaling");
  if (rs != section.end() && rs->is_object()) return &*rs;
  return *params;
}

Status ParseScalingFields(Reader& r, const std::string& source, RopeScaling* s) {
  RETURN_IF_ERROR(r.Float({"factor"}, &s->factor));
  RETURN_IF_ERROR(r.Int({"original_max_position_embeddings"}, &s->original_max_position_embeddings));
  RETURN_IF_ERROR(r.Float({"low_freq_factor"}, &s->low_freq_factor));
  RETURN_IF_ERROR(r.Float({"high_freq_factor"}, &s->high_freq_factor));
  RETURN_IF_ERROR(r.Float({"beta_fast"}, &s->beta_fast));
  RETURN_IF_ERROR(r.Float({"beta_slow"}, &s->beta_slow));
  RETURN_IF_ERROR(r.OptFloat({"mscale"}, &s->mscale));
  RETURN_IF_ERROR(r.OptFloat({"mscale_all_dim"}, &s->mscale_all_dim));
  RETURN_IF_ERROR(r.OptFloat({"attention_factor"}, &s->attention_factor));
  RETURN_IF_ERROR(r.FloatList({"short_factor"}, &s->short_factor));
  RETURN_IF_ERROR(r.FloatList({"long_factor"}, &s->long_factor));
  if (!(s->factor > 0) || !std::isfinite(s->factor))
    return InvalidArgumentError(source + ": rope_scaling factor must be positive");
  if (s->type == "longrope" && (s->short_factor.empty() || s->long_factor.empty()))
    return InvalidArgumentError(source + ": longrope needs short_factor and long_factor");
  if (s->type == "llama3" && !(s->high_freq_factor > s->low_freq_factor))
    return InvalidArgumentError(source + ": llama3 rope needs high_freq_factor > low_freq_factor");
  return OkStatus();
}

}  // namespace

Status ParseRope(const json& section, const std::string& source, ModelConfig* c) {
  const json* params;
  const json* dict = ScalingDict(section, &params);
  if (params != nullptr && params->contains("rope_theta"))
    RETURN_IF_ERROR(Reader(*params, source).Float({"rope_theta"}, &c->rope_theta));
  if (dict == nullptr) return OkStatus();
  Reader r(*dict, source);
  std::string type = "default";
  RETURN_IF_ERROR(r.String({"rope_type", "type"}, &type));
  if (type == "default" || type == "mrope") type = "none";
  if (type == "su") type = "longrope";  // Phi-3's early name
  if (type != "none" && type != "linear" && type != "dynamic" && type != "llama3" && type != "yarn" &&
      type != "longrope")
    return UnimplementedError(source + ": rope scaling type '" + type + "' is not supported");
  RopeScaling& s = c->rope_scaling;
  s.type = type;
  RETURN_IF_ERROR(ParseScalingFields(r, source, &s));
  if (s.original_max_position_embeddings == 0) {
    // Phi-3 keeps it at the top level.
    Reader top(section, source);
    RETURN_IF_ERROR(top.Int({"original_max_position_embeddings"}, &s.original_max_position_embeddings));
  }
  return OkStatus();
}

}  // namespace pagellm::config_internal

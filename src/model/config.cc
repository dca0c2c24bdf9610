#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "base/file.h"
#include "base/logging.h"
#include "model/config_internal.h"

namespace pagellm {

using json = nlohmann::json;
using config_internal::Reader;

namespace {

// transformers' per-model defaults for tie_word_embeddings when the key is absent (the base
// PretrainedConfig default is true; most decoder configs override it to false).
bool DefaultTieWordEmbeddings(const std::string& model_type) {
  static const std::set<std::string> kTied = {"gemma", "gemma2", "gemma3", "gemma3_text", "gpt2",
                                              "opt", "bloom", "falcon", "starcoder2", "qwen2_moe"};
  return kTied.count(model_type) > 0;
}

// Text decoders inside multimodal configs (Gemma 3, Llava, Mistral 3) keep their sizes in
// "text_config"; fall back to it when the top level has none.
const json& TextSection(const json& j) {
  auto tc = j.find("text_config");
  if (tc != j.end() && tc->is_object() && !j.contains("hidden_size") && !j.contains("n_embd"))
    return *tc;
  return j;
}

// bos/pad ids are ints, but a few configs carry a list: take its first element.
Status FirstOfIntOrList(Reader& r, const char* key, std::optional<int64_t>* out) {
  std::vector<int64_t> ids;
  RETURN_IF_ERROR(r.IntList({key}, &ids));
  if (!ids.empty()) *out = ids[0];
  return OkStatus();
}

Status ParseSizes(Reader& r, ModelConfig* c) {
  RETURN_IF_ERROR(r.Int({"vocab_size"}, &c->vocab_size));
  RETURN_IF_ERROR(r.Int({"hidden_size", "n_embd", "d_model"}, &c->hidden_size));
  RETURN_IF_ERROR(r.Int({"intermediate_size", "n_inner", "ffn_dim"}, &c->intermediate_size));
  RETURN_IF_ERROR(r.Int({"num_hidden_layers", "n_layer", "num_layers"}, &c->num_hidden_layers));
  RETURN_IF_ERROR(r.Int({"num_attention_heads", "n_head", "num_heads"}, &c->num_attention_heads));
  RETURN_IF_ERROR(r.Int({"num_key_value_heads", "n_head_kv", "num_kv_heads"}, &c->num_key_value_heads));
  RETURN_IF_ERROR(r.Int({"head_dim"}, &c->head_dim));
  RETURN_IF_ERROR(r.Int({"max_position_embeddings", "n_positions", "max_seq_len"},
                        &c->max_position_embeddings));
  RETURN_IF_ERROR(r.Int({"sliding_window"}, &c->sliding_window));
  bool use_sw = true;
  RETURN_IF_ERROR(r.Bool({"use_sliding_window"}, &use_sw));
  if (!use_sw) c->sliding_window = 0;  // Qwen2 ships a window size but disables it
  return OkStatus();
}

Status ParseScalars(Reader& r, ModelConfig* c) {
  RETURN_IF_ERROR(r.String({"hidden_act", "hidden_activation", "activation_function"}, &c->hidden_act));
  RETURN_IF_ERROR(r.Float({"rms_norm_eps"}, &c->rms_norm_eps));
  RETURN_IF_ERROR(r.Float({"layer_norm_eps", "layer_norm_epsilon"}, &c->layer_norm_eps));
  RETURN_IF_ERROR(r.Float({"rope_theta", "rotary_emb_base"}, &c->rope_theta));
  RETURN_IF_ERROR(r.Float({"partial_rotary_factor", "rotary_pct"}, &c->partial_rotary_factor));
  c->tie_word_embeddings = DefaultTieWordEmbeddings(c->model_type);
  RETURN_IF_ERROR(r.Bool({"tie_word_embeddings"}, &c->tie_word_embeddings));
  RETURN_IF_ERROR(r.Bool({"attention_bias"}, &c->attention_bias));
  RETURN_IF_ERROR(r.Bool({"mlp_bias"}, &c->mlp_bias));
  RETURN_IF_ERROR(FirstOfIntOrList(r, "bos_token_id", &c->bos_token_id));
  RETURN_IF_ERROR(FirstOfIntOrList(r, "pad_token_id", &c->pad_token_id));
  RETURN_IF_ERROR(r.IntList({"eos_token_id"}, &c->eos_token_ids));
  return OkStatus();
}

Status ParseDTypeField(Reader& r, ModelConfig* c) {
  std::string name;
  RETURN_IF_ERROR(r.String({"torch_dtype", "dtype"}, &name));
  if (name.empty()) return OkStatus();
  auto dt = ParseDType(name);
  if (dt.ok()) {
    c->torch_dtype = *dt;
  } else {
    LOG_WARN("{}: torch_dtype '{}' is not supported; treating it as unset", r.source(), name);
  }
  return OkStatus();
}

Status Validate(const std::string& src, ModelConfig* c) {
  auto bad = [&](const std::string& m) { return InvalidArgumentError(src + ": " + m); };
  for (int64_t v : {c->vocab_size, c->hidden_size, c->intermediate_size, c->num_hidden_layers,
                    c->num_attention_heads, c->num_key_value_heads, c->head_dim,
                    c->max_position_embeddings, c->sliding_window})
    if (v < 0) return bad("negative size in config");
  if (c->num_key_value_heads == 0) c->num_key_value_heads = c->num_attention_heads;
  if (c->head_dim == 0 && c->num_attention_heads > 0) {
    if (c->hidden_size % c->num_attention_heads != 0)
      return bad("hidden_size " + std::to_string(c->hidden_size) + " is not divisible by num_attention_heads " +
                 std::to_string(c->num_attention_heads));
    c->head_dim = c->hidden_size / c->num_attention_heads;
  }
  if (c->num_key_value_heads > 0 && c->num_attention_heads % c->num_key_value_heads != 0)
    return bad("num_attention_heads " + std::to_string(c->num_attention_heads) +
               " is not a multiple of num_key_value_heads " + std::to_string(c->num_key_value_heads));
  if (!(c->rope_theta > 0) || !std::isfinite(c->rope_theta)) return bad("rope_theta must be positive");
  if (!(c->partial_rotary_factor > 0 && c->partial_rotary_factor <= 1))
    return bad("partial_rotary_factor must be in (0, 1]");
  return OkStatus();
}

}  // namespace

StatusOr<ModelConfig> ParseModelConfig(const std::string& text, const std::string& source) {
  ASSIGN_OR_RETURN(json j, config_internal::ParseJsonObject(text, source));
  ModelConfig c;
  Reader top(j, source);
  RETURN_IF_ERROR(top.StringList({"architectures"}, &c.architectures));
  RETURN_IF_ERROR(top.String({"model_type"}, &c.model_type));
  const json& text_section = TextSection(j);
  Reader r(text_section, source);
  if (&text_section != &j && c.model_type.empty()) RETURN_IF_ERROR(r.String({"model_type"}, &c.model_type));
  RETURN_IF_ERROR(ParseSizes(r, &c));
  RETURN_IF_ERROR(ParseScalars(r, &c));
  if (c.eos_token_ids.empty()) RETURN_IF_ERROR(top.IntList({"eos_token_id"}, &c.eos_token_ids));
  if (!c.bos_token_id) RETURN_IF_ERROR(FirstOfIntOrList(top, "bos_token_id", &c.bos_token_id));
  RETURN_IF_ERROR(ParseDTypeField(top, &c));
  if (!c.torch_dtype) RETURN_IF_ERROR(ParseDTypeField(r, &c));
  RETURN_IF_ERROR(config_internal::ParseRope(text_section, source, &c));
  RETURN_IF_ERROR(Validate(source, &c));
  c.raw = std::move(j);
  return c;
}

StatusOr<ModelConfig> LoadModelConfig(const std::string& model_dir) {
  const std::string path = JoinPath(model_dir, "config.json");
  if (!FileExists(path)) return NotFoundError("no config.json in " + model_dir);
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseModelConfig(text, path);
}

StatusOr<GenerationConfig> ParseGenerationConfig(const std::string& text, const std::string& source) {
  ASSIGN_OR_RETURN(json j, config_internal::ParseJsonObject(text, source));
  GenerationConfig g;
  Reader r(j, source);
  RETURN_IF_ERROR(r.IntList({"eos_token_id"}, &g.eos_token_ids));
  RETURN_IF_ERROR(FirstOfIntOrList(r, "bos_token_id", &g.bos_token_id));
  RETURN_IF_ERROR(FirstOfIntOrList(r, "pad_token_id", &g.pad_token_id));
  RETURN_IF_ERROR(r.OptFloat({"temperature"}, &g.temperature));
  RETURN_IF_ERROR(r.OptFloat({"top_p"}, &g.top_p));
  RETURN_IF_ERROR(r.OptFloat({"min_p"}, &g.min_p));
  RETURN_IF_ERROR(r.OptFloat({"repetition_penalty"}, &g.repetition_penalty));
  RETURN_IF_ERROR(r.OptInt({"top_k"}, &g.top_k));
  RETURN_IF_ERROR(r.OptInt({"max_new_tokens"}, &g.max_new_tokens));
  if (j.contains("do_sample") && j["do_sample"].is_boolean()) g.do_sample = j["do_sample"].get<bool>();
  g.raw = std::move(j);
  return g;
}

StatusOr<GenerationConfig> LoadGenerationConfig(const std::string& model_dir) {
  const std::string path = JoinPath(model_dir, "generation_config.json");
  if (!FileExists(path)) return GenerationConfig{};
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseGenerationConfig(text, path);
}

int64_t DerivedMaxModelLen(const ModelConfig& c) {
  static const char* const kKeys[] = {"max_position_embeddings", "n_positions", "max_seq_len",
                                      "seq_length", "model_max_length", "max_sequence_length",
                                      "max_seq_length", "seq_len"};
  const nlohmann::json& j = TextSection(c.raw);
  int64_t len = -1;
  for (const char* k : kKeys) {
    int64_t v;
    auto it = j.find(k);
    if (it != j.end() && config_internal::JsonToInt(*it, &v) && v > 0) len = len < 0 ? v : std::min(len, v);
  }
  if (len < 0) len = c.max_position_embeddings > 0 ? c.max_position_embeddings : 2048;
  const RopeScaling& s = c.rope_scaling;
  if (s.type == "linear" || s.type == "dynamic" || s.type == "yarn") {
    if (s.type == "yarn" && s.original_max_position_embeddings > 0) len = s.original_max_position_embeddings;
    len = static_cast<int64_t>(static_cast<double>(len) * s.factor);
  }
  return len;
}

int64_t ModelConfig::GetInt(const std::string& key, int64_t def) const {
  auto it = raw.find(key);
  if (it == raw.end() || !it->is_number()) return def;
  if (it->is_number_float()) {
    double d = it->get<double>();
    return std::isfinite(d) && std::abs(d) < 9.2e18 ? static_cast<int64_t>(d) : def;
  }
  return it->is_number_unsigned() ? static_cast<int64_t>(it->get<uint64_t>()) : it->get<int64_t>();
}

double ModelConfig::GetFloat(const std::string& key, double def) const {
  auto it = raw.find(key);
  return it != raw.end() && it->is_number() ? it->get<double>() : def;
}

bool ModelConfig::GetBool(const std::string& key, bool def) const {
  auto it = raw.find(key);
  return it != raw.end() && it->is_boolean() ? it->get<bool>() : def;
}

std::string ModelConfig::GetString(const std::string& key, const std::string& def) const {
  auto it = raw.find(key);
  return it != raw.end() && it->is_string() ? it->get<std::string>() : def;
}

}  // namespace pagellm

// ParsePostProcessor: TemplateProcessing, RobertaProcessing/BertProcessing, ByteLevel, Sequence.
#include <nlohmann/json.hpp>

#include "tokenizer/decoders.h"
#include "tokenizer/json_util.h"

namespace pagellm::tokenizer {

using nlohmann::json;

namespace {

class AffixProcessor : public PostProcessor {
 public:
  AffixProcessor(std::vector<int32_t> prefix, std::vector<int32_t> suffix)
      : prefix_(std::move(prefix)), suffix_(std::move(suffix)) {}
  void Process(std::vector<int32_t>* ids) const override {
    ids->insert(ids->begin(), prefix_.begin(), prefix_.end());
    ids->insert(ids->end(), suffix_.begin(), suffix_.end());
  }

 private:
  std::vector<int32_t> prefix_, suffix_;
};

class NoopProcessor : public PostProcessor {
 public:
  void Process(std::vector<int32_t>*) const override {}
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> v) : v_(std::move(v)) {}
  void Process(std::vector<int32_t>* ids) const override {
    for (const auto& p : v_) p->Process(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> v_;
};

using PostPtr = std::unique_ptr<PostProcessor>;

StatusOr<PostPtr> ParseTemplate(const json& j) {
  if (!j.contains("single") || !j["single"].is_array()) {
    return InvalidArgumentError("TemplateProcessing without a 'single' array");
  }
  const json specials = j.value("special_tokens", json::object());
  std::vector<int32_t> prefix, suffix;
  bool seen_seq = false;
  for (const auto& item : j["single"]) {
    if (item.contains("Sequence")) {
      seen_seq = true;
      continue;
    }
    if (!item.contains("SpecialToken")) return InvalidArgumentError("bad template item");
    ASSIGN_OR_RETURN(std::string name, GetString(item["SpecialToken"], "id"));
    if (!specials.is_object() || !specials.contains(name) ||
        !specials[name].contains("ids") || !specials[name]["ids"].is_array()) {
      return InvalidArgumentError("template special token '" + name + "' has no ids");
    }
    for (const auto& id : specials[name]["ids"]) {
      if (!id.is_number_integer()) return InvalidArgumentError("bad special token id");
      (seen_seq ? suffix : prefix).push_back(id.get<int32_t>());
    }
  }
  return PostPtr(new AffixProcessor(std::move(prefix), std::move(suffix)));
}

StatusOr<int32_t> PairId(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_array() || j[key].size() != 2 ||
      !j[key][1].is_number_integer()) {
    return InvalidArgumentError(std::string("post-processor needs '") + key + "': [token, id]");
  }
  return j[key][1].get<int32_t>();
}

}  // namespace

std::unique_ptr<PostProcessor> MakeAffixProcessor(std::vector<int32_t> prefix,
                                                  std::vector<int32_t> suffix) {
  return PostPtr(new AffixProcessor(std::move(prefix), std::move(suffix)));
}

StatusOr<std::unique_ptr<PostProcessor>> ParsePostProcessor(const json& j) {
  NestingGuard guard;
  if (guard.too_deep()) return InvalidArgumentError("components nested too deeply");
  if (j.is_null()) return PostPtr();
  ASSIGN_OR_RETURN(std::string type, GetString(j, "type"));
  if (type == "TemplateProcessing") return ParseTemplate(j);
  if (type == "ByteLevel") return PostPtr(new NoopProcessor());
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    ASSIGN_OR_RETURN(int32_t cls, PairId(j, "cls"));
    ASSIGN_OR_RETURN(int32_t sep, PairId(j, "sep"));
    return MakeAffixProcessor({cls}, {sep});
  }
  if (type == "Sequence") {
    if (!j.contains("processors") || !j["processors"].is_array()) {
      return InvalidArgumentError("Sequence post-processor without 'processors'");
    }
    std::vector<PostPtr> v;
    for (const auto& e : j["processors"]) {
      ASSIGN_OR_RETURN(auto p, ParsePostProcessor(e));
      if (p) v.push_back(std::move(p));
    }
    return PostPtr(new SequenceProcessor(std::move(v)));
  }
  return UnimplementedError("unsupported post-processor type '" + type + "'");
}

}  // namespace pagellm::tokenizer

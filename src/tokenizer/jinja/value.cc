#include "tokenizer/jinja/value.h"

#include <cmath>

#include "tokenizer/jinja/pyformat.h"

namespace pagellm::jinja {

Value::Value(std::shared_ptr<Dict> d, bool is_namespace)
    : rep_(is_namespace ? Rep(NamespaceRef{std::move(d)}) : Rep(std::move(d))) {}

Value Value::MakeList(std::vector<Value> items, bool is_tuple) {
  auto l = std::make_shared<List>();
  l->items = std::move(items);
  l->is_tuple = is_tuple;
  return Value(std::move(l));
}

Value Value::MakeDict() { return Value(std::make_shared<Dict>()); }

Value Value::MakeCallable(std::string name, NativeFn fn) {
  auto c = std::make_shared<Callable>();
  c->name = std::move(name);
  c->fn = std::move(fn);
  return Value(Rep(std::move(c)));
}

Value::Kind Value::kind() const { return static_cast<Kind>(rep_.index()); }

int64_t Value::as_int() const {
  if (is_bool()) return as_bool() ? 1 : 0;
  if (is_float()) {  // truncate like int(); saturate instead of overflowing
    double d = std::get<double>(rep_);
    if (std::isnan(d)) return 0;
    if (d >= 9.2e18) return INT64_MAX;
    if (d <= -9.2e18) return INT64_MIN;
    return static_cast<int64_t>(d);
  }
  return is_int() ? std::get<int64_t>(rep_) : 0;
}

double Value::as_double() const {
  if (is_float()) return std::get<double>(rep_);
  return static_cast<double>(as_int());
}

Dict& Value::dict() const {
  if (is_namespace()) return *std::get<NamespaceRef>(rep_).dict;
  return *std::get<std::shared_ptr<Dict>>(rep_);
}

bool Value::Truthy() const {
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return as_bool();
    case Kind::kInt:
      return as_int() != 0;
    case Kind::kFloat:
      return as_double() != 0.0;
    case Kind::kString:
      return !str().empty();
    case Kind::kList:
      return !list().items.empty();
    case Kind::kDict:
      return dict().size() != 0;
    case Kind::kCallable:
    case Kind::kNamespace:
      return true;
  }
  return false;
}

std::string Value::TypeName() const {
  switch (kind()) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return list().is_tuple ? "tuple" : "list";
    case Kind::kDict:
      return "dict";
    case Kind::kCallable:
      return "function";
    case Kind::kNamespace:
      return "Namespace";
  }
  return "object";
}

Value Value::FromJson(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return None();
    case nlohmann::ordered_json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(FromJson(e));
      return MakeList(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value d = MakeDict();
      for (auto it = j.begin(); it != j.end(); ++it) d.dict().Set(it.key(), FromJson(it.value()));
      return d;
    }
    default:
      return None();  // binary / discarded: not produced by JSON parsing
  }
}

StatusOr<nlohmann::ordered_json> Value::ToJson() const {
  switch (kind()) {
    case Kind::kNone:
      return nlohmann::ordered_json(nullptr);
    case Kind::kBool:
      return nlohmann::ordered_json(as_bool());
    case Kind::kInt:
      return nlohmann::ordered_json(as_int());
    case Kind::kFloat:
      return nlohmann::ordered_json(as_double());
    case Kind::kString:
      return nlohmann::ordered_json(str());
    case Kind::kList: {
      auto out = nlohmann::ordered_json::array();
      for (const Value& v : list().items) {
        ASSIGN_OR_RETURN(auto e, v.ToJson());
        out.push_back(std::move(e));
      }
      return out;
    }
    case Kind::kDict: {
      auto out = nlohmann::ordered_json::object();
      for (const auto& [k, v] : dict().items()) {
        ASSIGN_OR_RETURN(auto e, v.ToJson());
        out[k.is_string() ? k.str() : PyStr(k)] = std::move(e);
      }
      return out;
    }
    default:
      return InvalidArgumentError("Object of type " + TypeName() + " is not JSON serializable");
  }
}

bool ValuesEqual(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.str() == b.str();
    case Value::Kind::kList: {
      const auto& x = a.list().items;
      const auto& y = b.list().items;
      if (x.size() != y.size() || a.list().is_tuple != b.list().is_tuple) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!ValuesEqual(x[i], y[i])) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      if (a.dict().size() != b.dict().size()) return false;
      for (const auto& [k, v] : a.dict().items()) {
        const Value* o = b.dict().Find(k);
        if (o == nullptr || !ValuesEqual(v, *o)) return false;
      }
      return true;
    }
    case Value::Kind::kCallable:
      return &a.callable() == &b.callable();
    case Value::Kind::kNamespace:
      return &a.dict() == &b.dict();
    default:
      return false;
  }
}

StatusOr<std::string> HashKey(const Value& key) {
  switch (key.kind()) {
    case Value::Kind::kString:
      return "s" + key.str();
    case Value::Kind::kBool:
    case Value::Kind::kInt:
      return "n" + std::to_string(key.as_int());
    case Value::Kind::kFloat: {
      double d = key.as_double();
      if (std::floor(d) == d && std::fabs(d) < 9.2e18) {
        return "n" + std::to_string(static_cast<int64_t>(d));
      }
      return "f" + PyRepr(key);
    }
    case Value::Kind::kNone:
      return std::string("z");
    case Value::Kind::kList:
      if (key.list().is_tuple) {
        std::string h = "t";
        for (const Value& v : key.list().items) {
          ASSIGN_OR_RETURN(std::string e, HashKey(v));
          h += std::to_string(e.size()) + ":" + e;
        }
        return h;
      }
      [[fallthrough]];
    default:
      return InvalidArgumentError("unhashable type: '" + key.TypeName() + "'");
  }
}

const Value* Dict::Find(const Value& key) const {
  const std::unordered_map<std::string, size_t>* index = &str_index_;
  const std::string* k = nullptr;
  std::string hash;
  if (key.is_string()) {
    k = &key.str();
  } else {
    auto h = HashKey(key);
    if (!h.ok()) return nullptr;
    hash = std::move(*h);
    k = &hash;
    index = &other_index_;
  }
  auto it = index->find(*k);
  return it == index->end() ? nullptr : &items_[it->second].second;
}

Status Dict::Set(const Value& key, Value value) {
  std::string hash;
  if (!key.is_string()) {
    ASSIGN_OR_RETURN(hash, HashKey(key));
  }
  auto& index = key.is_string() ? str_index_ : other_index_;
  const std::string& k = key.is_string() ? key.str() : hash;
  auto it = index.find(k);
  if (it != index.end()) {
    items_[it->second].second = std::move(value);
  } else {
    index.emplace(k, items_.size());
    items_.emplace_back(key, std::move(value));
  }
  return OkStatus();
}

}  // namespace pagellm::jinja

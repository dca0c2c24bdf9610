// Value: the dynamic value model of the Jinja interpreter, mirroring the Python objects that
// jinja2 sees when transformers renders a chat template (None/bool/int/float/str/list/tuple/
// dict/callable/namespace/Undefined). Lists, dicts and namespaces are shared by reference like
// Python objects. Thread-safety: values are not synchronised; one render uses them at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"

namespace pagellm::jinja {

class Value;
class Interpreter;
class Dict;

struct List {
  std::vector<Value> items;
  bool is_tuple = false;  // Only changes how it prints: (1, 2) versus [1, 2].
};

// Positional and keyword arguments of a call, in source order.
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
};

using NativeFn = std::function<StatusOr<Value>(Interpreter&, CallArgs&)>;

struct Callable {
  std::string name;
  NativeFn fn;
};

// An Undefined remembers why it is undefined so errors can say so, like jinja2's messages.
struct Undefined {
  std::string hint;  // e.g. "'foo' is undefined" or "'dict object' has no attribute 'x'"
};

class Value {
 public:
  enum class Kind {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kDict,
    kCallable,
    kNamespace
  };

  Value() : rep_(Undefined{}) {}
  static Value MakeUndefined(std::string hint) { return Value(Rep(Undefined{std::move(hint)})); }
  static Value None() { return Value(Rep(nullptr)); }
  Value(bool b) : rep_(b) {}                                  // NOLINT
  Value(int64_t i) : rep_(i) {}                               // NOLINT
  Value(int i) : rep_(static_cast<int64_t>(i)) {}             // NOLINT
  Value(double d) : rep_(d) {}                                // NOLINT
  Value(std::string s) : rep_(std::move(s)) {}                // NOLINT
  Value(const char* s) : rep_(std::string(s)) {}              // NOLINT
  Value(std::shared_ptr<List> l) : rep_(std::move(l)) {}      // NOLINT
  Value(std::shared_ptr<Dict> d, bool is_namespace = false);  // NOLINT
  static Value MakeList(std::vector<Value> items = {}, bool is_tuple = false);
  static Value MakeDict();
  static Value MakeCallable(std::string name, NativeFn fn);

  Kind kind() const;
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_callable() const { return kind() == Kind::kCallable; }
  bool is_namespace() const { return kind() == Kind::kNamespace; }

  // REQUIRES: the matching is_*() is true.
  bool as_bool() const { return std::get<bool>(rep_); }
  // Numeric views; total so a wrong type can never crash (non-numbers read as 0). Callers
  // that must reject other types check is_number() / use IntArg().
  int64_t as_int() const;
  double as_double() const;
  const std::string& str() const { return std::get<std::string>(rep_); }
  List& list() const { return *std::get<std::shared_ptr<List>>(rep_); }
  Dict& dict() const;  // dict or namespace
  const Callable& callable() const { return *std::get<std::shared_ptr<Callable>>(rep_); }
  const std::string& undefined_hint() const { return std::get<Undefined>(rep_).hint; }

  // Python truthiness.
  bool Truthy() const;
  // Python type name for error messages ("str", "dict", "NoneType", ...).
  std::string TypeName() const;

  static Value FromJson(const nlohmann::ordered_json& j);
  // Fails for values JSON cannot hold (undefined, callables, namespaces).
  StatusOr<nlohmann::ordered_json> ToJson() const;

 private:
  struct NamespaceRef {
    std::shared_ptr<Dict> dict;
  };
  using Rep = std::variant<Undefined, std::nullptr_t, bool, int64_t, double, std::string,
                           std::shared_ptr<List>, std::shared_ptr<Dict>, std::shared_ptr<Callable>,
                           NamespaceRef>;
  explicit Value(Rep rep) : rep_(std::move(rep)) {}
  Rep rep_;
};

// Python ==, including 1 == 1.0 == True and deep list/dict comparison.
bool ValuesEqual(const Value& a, const Value& b);

// A dict that keeps insertion order like Python's. Keys are hashable scalars.
class Dict {
 public:
  // Returns nullptr when absent.
  const Value* Find(const Value& key) const;
  const Value* Find(const std::string& key) const { return Find(Value(key)); }
  // Fails for unhashable keys (lists, dicts).
  Status Set(const Value& key, Value value);
  void Set(const std::string& key, Value value) { (void)Set(Value(key), std::move(value)); }
  void Set(const char* key, Value value) { (void)Set(Value(key), std::move(value)); }
  const std::vector<std::pair<Value, Value>>& items() const { return items_; }
  size_t size() const { return items_.size(); }

 private:
  // String keys (nearly all) index by their text; other keys by HashKey() in other_index_.
  std::vector<std::pair<Value, Value>> items_;
  std::unordered_map<std::string, size_t> str_index_;
  std::unordered_map<std::string, size_t> other_index_;
};

// The hash identity of a key (Python: 1, 1.0 and True are the same key). Fails if unhashable.
StatusOr<std::string> HashKey(const Value& key);

}  // namespace pagellm::jinja

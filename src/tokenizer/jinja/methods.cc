// Methods of built-in types reachable from templates: str, dict and list. Mutating methods
// (list.append, dict.update, ...) are absent, as in jinja2's ImmutableSandboxedEnvironment.
#include <cctype>

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/pyformat.h"
#include "tokenizer/jinja/strings.h"

namespace pagellm::jinja {
namespace {

StatusOr<std::optional<std::string>> OptStr(const CallArgs& a, size_t pos, const char* name) {
  const Value* v = FindArg(a, pos, name);
  if (v == nullptr || v->is_none()) return std::optional<std::string>();
  if (!v->is_string()) return InvalidArgumentError(std::string(name) + " must be str or None");
  return std::optional<std::string>(v->str());
}

Value StrList(std::vector<std::string> parts) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (auto& p : parts) items.emplace_back(std::move(p));
  return Value::MakeList(std::move(items));
}

StatusOr<Value> Strip(const Value& self, CallArgs& a, bool l, bool r) {
  ASSIGN_OR_RETURN(auto chars, OptStr(a, 0, "chars"));
  return Value(StrStrip(self.str(), chars, l, r));
}

StatusOr<Value> Split(const Value& self, CallArgs& a, bool reverse) {
  ASSIGN_OR_RETURN(auto sep, OptStr(a, 0, "sep"));
  if (sep && sep->empty()) return InvalidArgumentError("empty separator");
  ASSIGN_OR_RETURN(int64_t maxsplit, IntArg(a, 1, "maxsplit", -1));
  return StrList(reverse ? StrRSplit(self.str(), sep, maxsplit)
                         : StrSplit(self.str(), sep, maxsplit));
}

StatusOr<Value> AffixTest(const Value& self, CallArgs& a, bool prefix) {
  const Value* arg = FindArg(a, 0, "prefix");
  if (arg == nullptr) return InvalidArgumentError("startswith/endswith takes one argument");
  std::vector<Value> options = arg->is_list() ? arg->list().items : std::vector<Value>{*arg};
  const std::string& s = self.str();
  for (const Value& o : options) {
    if (!o.is_string()) return InvalidArgumentError("startswith/endswith needs str arguments");
    const std::string& x = o.str();
    if (x.size() <= s.size() && s.compare(prefix ? 0 : s.size() - x.size(), x.size(), x) == 0) {
      return Value(true);
    }
  }
  return Value(false);
}

// str.format with {} / {0} / {name} fields; format specs are not supported.
StatusOr<Value> Format(const Value& self, CallArgs& a) {
  const std::string& f = self.str();
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if ((c == '{' || c == '}') && i + 1 < f.size() && f[i + 1] == c) {
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == '}') return InvalidArgumentError("Single '}' encountered in format string");
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    size_t close = f.find('}', i);
    if (close == std::string::npos) return InvalidArgumentError("unmatched '{' in format");
    std::string field = f.substr(i + 1, close - i - 1);
    if (field.find_first_of(":!") != std::string::npos) {
      return UnimplementedError("format specs are not supported in str.format");
    }
    const Value* v = nullptr;
    if (field.empty() || std::isdigit(static_cast<unsigned char>(field[0]))) {
      if (field.size() > 6 || field.find_first_not_of("0123456789") != std::string::npos) {
        return UnimplementedError("str.format field '" + field + "' is not supported");
      }
      size_t idx = field.empty() ? auto_index++ : std::stoul(field);
      if (idx < a.args.size()) v = &a.args[idx];
    } else {
      for (const auto& [k, val] : a.kwargs) {
        if (k == field) v = &val;
      }
    }
    if (v == nullptr) return InvalidArgumentError("format: missing argument '" + field + "'");
    out += PyStr(*v);
    i = close;
  }
  return Value(std::move(out));
}

StatusOr<Value> Join(Interpreter&, const Value& self, CallArgs& a) {
  if (a.args.empty()) return InvalidArgumentError("join() takes exactly one argument");
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(a.args[0]));
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_string()) {
      return InvalidArgumentError("sequence item " + std::to_string(i) +
                                  ": expected str instance, " + items[i].TypeName() + " found");
    }
    if (i > 0) out += self.str();
    out += items[i].str();
  }
  return Value(std::move(out));
}

StatusOr<Value> StrMethod(const std::string& name, Interpreter& in, const Value& self,
                          CallArgs& a) {
  const std::string& s = self.str();
  auto sub = [&]() -> StatusOr<std::string> {
    const Value* v = FindArg(a, 0, "sub");
    if (v == nullptr || !v->is_string()) return InvalidArgumentError(name + " needs a str");
    return v->str();
  };
  if (name == "strip") return Strip(self, a, true, true);
  if (name == "lstrip") return Strip(self, a, true, false);
  if (name == "rstrip") return Strip(self, a, false, true);
  if (name == "split") return Split(self, a, false);
  if (name == "rsplit") return Split(self, a, true);
  if (name == "startswith") return AffixTest(self, a, true);
  if (name == "endswith") return AffixTest(self, a, false);
  if (name == "upper") return Value(StrUpper(s));
  if (name == "lower" || name == "casefold") return Value(StrLower(s));
  if (name == "title") return Value(StrTitle(s));
  if (name == "capitalize") return Value(StrCapitalize(s));
  if (name == "format") return Format(self, a);
  if (name == "join") return Join(in, self, a);
  if (name == "replace") {
    const Value* from = FindArg(a, 0, "old");
    const Value* to = FindArg(a, 1, "new");
    if (!from || !to || !from->is_string() || !to->is_string()) {
      return InvalidArgumentError("replace() needs two str arguments");
    }
    ASSIGN_OR_RETURN(int64_t count, IntArg(a, 2, "count", -1));
    return Value(StrReplace(s, from->str(), to->str(), count, in.limits().max_output_bytes));
  }
  if (name == "count") {
    ASSIGN_OR_RETURN(std::string x, sub());
    return Value(StrCount(s, x));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
    ASSIGN_OR_RETURN(std::string x, sub());
    int64_t r = StrFind(s, x, name[0] == 'r');
    if (r < 0 && name.find("index") != std::string::npos) {
      return InvalidArgumentError("substring not found");
    }
    return Value(r);
  }
  if (name == "splitlines") {
    std::vector<std::string> lines = StrSplit(s, std::string("\n"), -1);
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    for (auto& l : lines) {
      if (!l.empty() && l.back() == '\r') l.pop_back();
    }
    return StrList(std::move(lines));
  }
  auto all = [&](auto pred) {
    std::vector<char32_t> cps = DecodeUtf8(s);
    if (cps.empty()) return Value(false);
    for (char32_t c : cps) {
      if (!pred(c)) return Value(false);
    }
    return Value(true);
  };
  if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") {
    return all([](char32_t c) { return c >= '0' && c <= '9'; });
  }
  if (name == "isspace") return all(IsPySpace);
  if (name == "isalpha") return all([](char32_t c) { return IsCased(c); });
  if (name == "isalnum") {
    return all([](char32_t c) { return IsCased(c) || (c >= '0' && c <= '9'); });
  }
  if (name == "isupper") return Value(StrUpper(s) == s && StrLower(s) != s);
  if (name == "islower") return Value(StrLower(s) == s && StrUpper(s) != s);
  return InvalidArgumentError("unknown str method " + name);
}

StatusOr<Value> DictMethod(const std::string& name, const Value& self, CallArgs& a) {
  const Dict& d = self.dict();
  if (name == "get") {
    const Value* key = FindArg(a, 0, "key");
    if (key == nullptr) return InvalidArgumentError("get expected at least 1 argument");
    const Value* v = d.Find(*key);
    return v ? *v : ArgOr(a, 1, "default", Value::None());
  }
  std::vector<Value> out;
  for (const auto& [k, v] : d.items()) {
    if (name == "keys")
      out.push_back(k);
    else if (name == "values")
      out.push_back(v);
    else
      out.push_back(Value::MakeList({k, v}, /*is_tuple=*/true));
  }
  if (name == "copy") {
    Value c = Value::MakeDict();
    for (const auto& [k, v] : d.items()) (void)c.dict().Set(k, v);
    return c;
  }
  return Value::MakeList(std::move(out));
}

StatusOr<Value> ListMethod(const std::string& name, const Value& self, CallArgs& a) {
  const Value* x = FindArg(a, 0, "value");
  if (name == "copy") return Value::MakeList(self.list().items, self.list().is_tuple);
  if (x == nullptr) return InvalidArgumentError(name + "() takes exactly one argument");
  int64_t count = 0;
  const auto& items = self.list().items;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!ValuesEqual(items[i], *x)) continue;
    if (name == "index") return Value(static_cast<int64_t>(i));
    ++count;
  }
  if (name == "index") return InvalidArgumentError(PyRepr(*x) + " is not in list");
  return Value(count);
}

bool IsOneOf(const std::string& name, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (name == n) return true;
  }
  return false;
}

}  // namespace

Value GetMethod(const Value& obj, const std::string& name) {
  if (obj.is_string() &&
      IsOneOf(name, {"strip",    "lstrip",  "rstrip",     "split",    "rsplit",    "startswith",
                     "endswith", "upper",   "lower",      "casefold", "title",     "capitalize",
                     "format",   "join",    "replace",    "count",    "find",      "rfind",
                     "index",    "rindex",  "splitlines", "isdigit",  "isnumeric", "isdecimal",
                     "isspace",  "isalpha", "isalnum",    "isupper",  "islower"})) {
    return Value::MakeCallable("str." + name, [obj, name](Interpreter& in, CallArgs& a) {
      return StrMethod(name, in, obj, a);
    });
  }
  if (obj.is_dict() && IsOneOf(name, {"get", "keys", "values", "items", "copy"})) {
    return Value::MakeCallable("dict." + name, [obj, name](Interpreter&, CallArgs& a) {
      return DictMethod(name, obj, a);
    });
  }
  if (obj.is_list() && IsOneOf(name, {"index", "count", "copy"})) {
    return Value::MakeCallable("list." + name, [obj, name](Interpreter&, CallArgs& a) {
      return ListMethod(name, obj, a);
    });
  }
  return Value();
}

}  // namespace pagellm::jinja

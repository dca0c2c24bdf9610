// Global functions available to templates: jinja2's range/dict/namespace/cycler/joiner and
// transformers' raise_exception/strftime_now.
#include <cmath>
#include <ctime>

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/pyformat.h"

namespace pagellm::jinja {
namespace {

// jinja2's sandbox refuses ranges longer than this (MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

StatusOr<Value> Range(Interpreter&, CallArgs& a) {
  if (a.args.empty() || a.args.size() > 3)
    return InvalidArgumentError("range expects 1 to 3 arguments");
  for (const Value& v : a.args) {
    if (!v.is_int() && !v.is_bool()) {
      return InvalidArgumentError("'" + v.TypeName() +
                                  "' object cannot be interpreted as an integer");
    }
  }
  int64_t start = 0, stop, step = 1;
  if (a.args.size() == 1) {
    stop = a.args[0].as_int();
  } else {
    start = a.args[0].as_int();
    stop = a.args[1].as_int();
    if (a.args.size() == 3) step = a.args[2].as_int();
  }
  if (step == 0) return InvalidArgumentError("range() arg 3 must not be zero");
  double n = step > 0 ? std::ceil((static_cast<double>(stop) - start) / step)
                      : std::ceil((static_cast<double>(start) - stop) / -static_cast<double>(step));
  if (n > kMaxRange) {
    return InvalidArgumentError(
        "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  std::vector<Value> items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) items.emplace_back(i);
  return Value::MakeList(std::move(items));
}

Status MergeKwargs(CallArgs& a, Dict* d, const char* fn) {
  for (const Value& v : a.args) {
    if (!v.is_dict())
      return InvalidArgumentError(std::string(fn) + "() positional argument must be a dict");
    for (const auto& [k, val] : v.dict().items()) RETURN_IF_ERROR(d->Set(k, val));
  }
  for (const auto& [k, v] : a.kwargs) d->Set(k, v);
  return OkStatus();
}

StatusOr<Value> DictFn(Interpreter&, CallArgs& a) {
  Value d = Value::MakeDict();
  RETURN_IF_ERROR(MergeKwargs(a, &d.dict(), "dict"));
  return d;
}

StatusOr<Value> NamespaceFn(Interpreter&, CallArgs& a) {
  auto d = std::make_shared<Dict>();
  RETURN_IF_ERROR(MergeKwargs(a, d.get(), "namespace"));
  return Value(d, /*is_namespace=*/true);
}

StatusOr<Value> RaiseException(Interpreter&, CallArgs& a) {
  return TemplateRaised(a.args.empty() ? std::string() : PyStr(a.args[0]));
}

StatusOr<Value> StrftimeNow(Interpreter&, CallArgs& a) {
  if (a.args.empty() || !a.args[0].is_string()) {
    return InvalidArgumentError("strftime_now expects a format string");
  }
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  const std::string& fmt = a.args[0].str();
  if (fmt.size() > 1024) return InvalidArgumentError("strftime_now: format too long");
  std::string buf(fmt.size() * 16 + 64, '\0');
  size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
  buf.resize(n);
  return Value(std::move(buf));
}

// joiner(sep): returns "" on the first call and sep afterwards.
StatusOr<Value> Joiner(Interpreter&, CallArgs& a) {
  std::string sep = PyStr(ArgOr(a, 0, "sep", Value(", ")));
  auto used = std::make_shared<bool>(false);
  return Value::MakeCallable("joiner", [sep, used](Interpreter&, CallArgs&) -> StatusOr<Value> {
    if (!*used) {
      *used = true;
      return Value("");
    }
    return Value(sep);
  });
}

}  // namespace

void InstallGlobals(Interpreter* in) {
  in->SetRoot("range", Value::MakeCallable("range", Range));
  in->SetRoot("dict", Value::MakeCallable("dict", DictFn));
  in->SetRoot("namespace", Value::MakeCallable("namespace", NamespaceFn));
  in->SetRoot("joiner", Value::MakeCallable("joiner", Joiner));
  in->SetRoot("raise_exception", Value::MakeCallable("raise_exception", RaiseException));
  in->SetRoot("strftime_now", Value::MakeCallable("strftime_now", StrftimeNow));
}

}  // namespace pagellm::jinja

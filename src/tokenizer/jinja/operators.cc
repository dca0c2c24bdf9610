// Python operator semantics on Values: arithmetic, ordering, membership, iteration, len().
#include <cmath>

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/pyformat.h"

namespace pagellm::jinja {
namespace {

Status Unsupported(const std::string& op, const Value& a, const Value& b) {
  if (op == "+" && a.is_string()) {
    return InvalidArgumentError("can only concatenate str (not \"" + b.TypeName() + "\") to str");
  }
  if (op == "+" && a.is_list() && !a.list().is_tuple) {
    return InvalidArgumentError("can only concatenate list (not \"" + b.TypeName() + "\") to list");
  }
  return InvalidArgumentError("unsupported operand type(s) for " + op + ": '" + a.TypeName() +
                              "' and '" + b.TypeName() + "'");
}

StatusOr<Value> Repeat(const Value& seq, int64_t n, size_t max_bytes) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    if (static_cast<double>(seq.str().size()) * n > static_cast<double>(max_bytes)) {
      return ResourceExhaustedError("string repetition exceeds the output limit");
    }
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value(std::move(out));
  }
  const auto& items = seq.list().items;
  if (static_cast<double>(items.size()) * n * 8 > static_cast<double>(max_bytes)) {
    return ResourceExhaustedError("list repetition exceeds the output limit");
  }
  std::vector<Value> out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::MakeList(std::move(out), seq.list().is_tuple);
}

// One %-conversion with optional flags/width/precision, e.g. "%-5s", "%.2f", "%03d".
StatusOr<std::string> FormatOne(const std::string& spec, char conv, const Value& v) {
  if (spec.size() > 16) return InvalidArgumentError("format spec too long");
  char buf[512];
  if (conv == 's' || conv == 'r') {
    std::string s = conv == 's' ? PyStr(v) : PyRepr(v);
    size_t width = 0, prec = std::string::npos;
    bool left = spec.find('-') != std::string::npos;
    size_t dot = spec.find('.');
    std::string w = spec.substr(0, dot);
    w.erase(0, w.find_first_of("123456789") == std::string::npos ? w.size()
                                                                 : w.find_first_of("123456789"));
    if (!w.empty()) width = std::stoul(w);
    if (dot != std::string::npos) prec = std::stoul("0" + spec.substr(dot + 1));
    if (prec < s.size()) s.resize(prec);
    if (width > 4096) return InvalidArgumentError("format width too large");
    size_t len = Utf8Length(s);
    if (len < width)
      s = left ? s + std::string(width - len, ' ') : std::string(width - len, ' ') + s;
    return s;
  }
  if (!v.is_number()) {
    return InvalidArgumentError(std::string("%") + conv +
                                " format: a real number is required, not " + v.TypeName());
  }
  std::string f = "%" + spec;
  if (conv == 'd' || conv == 'i' || conv == 'x' || conv == 'X' || conv == 'o') {
    int64_t x = v.as_int();
    std::snprintf(buf, sizeof(buf), (f + "ll" + (conv == 'i' ? 'd' : conv)).c_str(),
                  static_cast<long long>(x));
  } else {
    std::snprintf(buf, sizeof(buf), (f + conv).c_str(), v.as_double());
  }
  return std::string(buf);
}

// Python's printf-style `str % args` for the conversions templates use.
StatusOr<Value> PercentFormat(const std::string& fmt, const Value& arg) {
  std::vector<Value> args;
  if (arg.is_list() && arg.list().is_tuple)
    args = arg.list().items;
  else
    args.push_back(arg);
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    size_t spec_begin = ++i;
    while (i < fmt.size() &&
           std::string_view("-+ #0123456789.").find(fmt[i]) != std::string_view::npos)
      ++i;
    if (i >= fmt.size()) return InvalidArgumentError("incomplete format");
    char c = fmt[i];
    if (c == '%' && i == spec_begin) {
      out.push_back('%');
      continue;
    }
    if (std::string_view("srdiuxXoeEfFgG").find(c) == std::string_view::npos) {
      return UnimplementedError(std::string("unsupported format character '") + c + "'");
    }
    if (next >= args.size()) return InvalidArgumentError("not enough arguments for format string");
    ASSIGN_OR_RETURN(std::string piece, FormatOne(fmt.substr(spec_begin, i - spec_begin),
                                                  c == 'u' ? 'd' : c, args[next++]));
    out += piece;
  }
  if (next < args.size()) {
    return InvalidArgumentError("not all arguments converted during string formatting");
  }
  return Value(std::move(out));
}

StatusOr<Value> Arith(const std::string& op, const Value& a, const Value& b) {
  bool ints = !a.is_float() && !b.is_float();
  int64_t x = ints ? a.as_int() : 0, y = ints ? b.as_int() : 0, r = 0;
  double p = a.as_double(), q = b.as_double();
  if (op == "+" || op == "-" || op == "*") {
    if (!ints) return Value(op == "+" ? p + q : op == "-" ? p - q : p * q);
    bool overflow = op == "+"   ? __builtin_add_overflow(x, y, &r)
                    : op == "-" ? __builtin_sub_overflow(x, y, &r)
                                : __builtin_mul_overflow(x, y, &r);
    if (overflow) return InvalidArgumentError("integer overflow");
    return Value(r);
  }
  if (op == "/") {
    if (q == 0) return InvalidArgumentError("division by zero");
    return Value(p / q);
  }
  if (op == "//" || op == "%") {
    if (ints ? y == 0 : q == 0) return InvalidArgumentError("integer division or modulo by zero");
    if (ints) {
      if (x == INT64_MIN && y == -1) return InvalidArgumentError("integer overflow");
      int64_t d = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --d;
        m += y;
      }
      return Value(op == "//" ? d : m);
    }
    double m = std::fmod(p, q);
    if (m != 0 && ((m < 0) != (q < 0))) m += q;
    if (op == "%") return Value(m);
    return Value(std::floor(p / q));
  }
  if (op == "**") {
    if (ints && y >= 0) {
      int64_t result = 1, base = x;
      for (int64_t e = y; e > 0; e >>= 1) {
        if ((e & 1) && __builtin_mul_overflow(result, base, &result)) {
          return InvalidArgumentError("integer overflow");
        }
        if (e > 1 && __builtin_mul_overflow(base, base, &base)) {
          return InvalidArgumentError("integer overflow");
        }
      }
      return Value(result);
    }
    if (p == 0 && q < 0) return InvalidArgumentError("0.0 cannot be raised to a negative power");
    return Value(std::pow(p, q));
  }
  return InvalidArgumentError("unknown operator " + op);
}

}  // namespace

StatusOr<Value> BinaryOp(const std::string& op, const Value& a, const Value& b, size_t max_bytes) {
  if (op == "~") {
    std::string s = PyStr(a);
    std::string t = PyStr(b);
    if (s.size() + t.size() > max_bytes) return ResourceExhaustedError("string too long");
    return Value(s + t);
  }
  if (a.is_undefined()) return InvalidArgumentError(a.undefined_hint());
  if (b.is_undefined()) return InvalidArgumentError(b.undefined_hint());
  if (a.is_number() && b.is_number()) return Arith(op, a, b);
  if (op == "+" && a.is_string() && b.is_string()) {
    if (a.str().size() + b.str().size() > max_bytes)
      return ResourceExhaustedError("string too long");
    return Value(a.str() + b.str());
  }
  if (op == "+" && a.is_list() && b.is_list() && a.list().is_tuple == b.list().is_tuple) {
    std::vector<Value> items = a.list().items;
    items.insert(items.end(), b.list().items.begin(), b.list().items.end());
    if (items.size() * 8 > max_bytes) return ResourceExhaustedError("list too long");
    return Value::MakeList(std::move(items), a.list().is_tuple);
  }
  if (op == "*" && (a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) {
    return Repeat(a, b.as_int(), max_bytes);
  }
  if (op == "*" && (b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) {
    return Repeat(b, a.as_int(), max_bytes);
  }
  if (op == "%" && a.is_string()) return PercentFormat(a.str(), b);
  return Unsupported(op, a, b);
}

StatusOr<int> CompareValues(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) {
      return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
    }
    double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int c = a.str().compare(b.str());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list()) {
    const auto& x = a.list().items;
    const auto& y = b.list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (ValuesEqual(x[i], y[i])) continue;
      return CompareValues(x[i], y[i]);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  return InvalidArgumentError("'<' not supported between instances of '" + a.TypeName() +
                              "' and '" + b.TypeName() + "'");
}

StatusOr<bool> Contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kString:
      if (!item.is_string()) {
        return InvalidArgumentError("'in <string>' requires string as left operand, not " +
                                    item.TypeName());
      }
      return container.str().find(item.str()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& v : container.list().items) {
        if (ValuesEqual(v, item)) return true;
      }
      return false;
    case Value::Kind::kDict: {
      auto hashable = HashKey(item);
      if (!hashable.ok()) return hashable.status();
      return container.dict().Find(item) != nullptr;
    }
    default:
      return InvalidArgumentError("argument of type '" + container.TypeName() +
                                  "' is not iterable");
  }
}

StatusOr<std::vector<Value>> Iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return std::vector<Value>{};
    case Value::Kind::kList:
      return v.list().items;
    case Value::Kind::kDict: {
      std::vector<Value> keys;
      for (const auto& [k, val] : v.dict().items()) keys.push_back(k);
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<Value> chars;
      std::vector<char32_t> cps = DecodeUtf8(v.str());
      for (size_t i = 0; i < cps.size(); ++i) chars.emplace_back(EncodeUtf8(cps, i, i + 1));
      return chars;
    }
    default:
      return InvalidArgumentError("'" + v.TypeName() + "' object is not iterable");
  }
}

StatusOr<int64_t> Length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<int64_t>(Utf8Length(v.str()));
    case Value::Kind::kList:
      return static_cast<int64_t>(v.list().items.size());
    case Value::Kind::kDict:
      return static_cast<int64_t>(v.dict().size());
    default:
      return InvalidArgumentError("object of type '" + v.TypeName() + "' has no len()");
  }
}

const Value* FindArg(const CallArgs& args, size_t pos, const char* name) {
  if (pos < args.args.size()) return &args.args[pos];
  for (const auto& [k, v] : args.kwargs) {
    if (k == name) return &v;
  }
  return nullptr;
}

StatusOr<int64_t> IntArg(const CallArgs& args, size_t pos, const char* name, int64_t fallback) {
  const Value* v = FindArg(args, pos, name);
  if (v == nullptr || v->is_none()) return fallback;
  if (!v->is_int() && !v->is_bool()) {
    return InvalidArgumentError(std::string("argument '") + name + "' must be an integer, not '" +
                                v->TypeName() + "'");
  }
  return v->as_int();
}

Value ArgOr(const CallArgs& args, size_t pos, const char* name, Value fallback) {
  const Value* v = FindArg(args, pos, name);
  return v ? *v : std::move(fallback);
}

}  // namespace pagellm::jinja

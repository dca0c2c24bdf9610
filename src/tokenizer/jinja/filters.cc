// String and number filters, transformers' tojson, and the filter lookup.
#include "tokenizer/jinja/filters.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "tokenizer/jinja/pyformat.h"
#include "tokenizer/jinja/strings.h"

namespace pagellm::jinja {
namespace {

StatusOr<Value> Trim(Interpreter&, const Value& v, CallArgs& a) {
  Value chars = ArgOr(a, 0, "chars", Value::None());
  std::optional<std::string> c;
  if (chars.is_string()) c = chars.str();
  return Value(StrStrip(PyStr(v), c, true, true));
}

StatusOr<Value> Upper(Interpreter&, const Value& v, CallArgs&) { return Value(StrUpper(PyStr(v))); }
StatusOr<Value> Lower(Interpreter&, const Value& v, CallArgs&) { return Value(StrLower(PyStr(v))); }
StatusOr<Value> Capitalize(Interpreter&, const Value& v, CallArgs&) {
  return Value(StrCapitalize(PyStr(v)));
}
StatusOr<Value> String(Interpreter&, const Value& v, CallArgs&) { return Value(PyStr(v)); }
StatusOr<Value> Safe(Interpreter&, const Value& v, CallArgs&) { return v; }

// jinja2's title filter: capitalise after runs of '-', whitespace, '(', '{', '[', '<'.
StatusOr<Value> Title(Interpreter&, const Value& v, CallArgs&) {
  std::string out;
  bool word_start = true;
  for (char32_t c : DecodeUtf8(PyStr(v))) {
    bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || IsPySpace(c);
    AppendUtf8(sep ? c : (word_start ? PyUpper(c) : PyLower(c)), &out);
    word_start = sep;
  }
  return Value(std::move(out));
}

StatusOr<Value> Replace(Interpreter& in, const Value& v, CallArgs& a) {
  Value from = ArgOr(a, 0, "old", Value(""));
  Value to = ArgOr(a, 1, "new", Value(""));
  Value count = ArgOr(a, 2, "count", Value::None());
  return Value(StrReplace(PyStr(v), PyStr(from), PyStr(to), count.is_number() ? count.as_int() : -1,
                          in.limits().max_output_bytes));
}

StatusOr<Value> Escape(Interpreter&, const Value& v, CallArgs&) {
  std::string out;
  for (char c : PyStr(v)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return Value(std::move(out));
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> lines;
  std::string cur;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      lines.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(s[i]);
    }
  }
  if (!cur.empty()) lines.push_back(std::move(cur));
  return lines;
}

StatusOr<Value> Indent(Interpreter&, const Value& v, CallArgs& a) {
  Value width = ArgOr(a, 0, "width", Value(4));
  bool first = ArgOr(a, 1, "first", Value(false)).Truthy();
  bool blank = ArgOr(a, 2, "blank", Value(false)).Truthy();
  if (!width.is_string() && !width.is_int() && !width.is_bool()) {
    return InvalidArgumentError("indent width must be an int or a str");
  }
  int64_t n = std::min<int64_t>(std::max<int64_t>(0, width.as_int()), 4096);
  std::string pad = width.is_string() ? width.str() : std::string(n, ' ');
  std::vector<std::string> lines = SplitLines(PyStr(v) + "\n");
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\n";
    if (i > 0 && (blank || !lines[i].empty())) out += pad;
    out += lines[i];
  }
  if (first) out = pad + out;
  return Value(std::move(out));
}

StatusOr<Value> Center(Interpreter&, const Value& v, CallArgs& a) {
  std::string s = PyStr(v);
  ASSIGN_OR_RETURN(int64_t width, IntArg(a, 0, "width", 80));
  int64_t len = static_cast<int64_t>(Utf8Length(s));
  if (width <= len || width > (1 << 20)) return Value(s);
  int64_t total = width - len;
  int64_t left = total / 2 + (total & width & 1);  // CPython's rounding of the split
  return Value(std::string(left, ' ') + s + std::string(total - left, ' '));
}

StatusOr<Value> WordCount(Interpreter&, const Value& v, CallArgs&) {
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : DecodeUtf8(PyStr(v))) {
    bool w = c == '_' || (c >= '0' && c <= '9') || IsCased(c) || c >= 0x80;
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value(n);
}

StatusOr<Value> Format(Interpreter&, const Value& v, CallArgs& a) {
  if (!a.kwargs.empty()) return UnimplementedError("format filter with keyword arguments");
  return BinaryOp("%", Value(PyStr(v)), Value::MakeList(a.args, /*is_tuple=*/true), 1u << 30);
}

// Python int(str): optional sign, digits with single underscores, surrounding whitespace.
std::optional<int64_t> ParseInt(const std::string& s, int base) {
  std::string t = StrStrip(s, std::nullopt, true, true);
  std::string digits;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_' && i > 0 && i + 1 < t.size() &&
        std::isalnum(static_cast<unsigned char>(t[i - 1])))
      continue;
    digits.push_back(t[i]);
  }
  if (digits.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(digits.c_str(), &end, base);
  if (*end != '\0' || errno == ERANGE || !std::isalnum(static_cast<unsigned char>(digits.back()))) {
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

std::optional<double> ParseFloat(const std::string& s) {
  std::string t = StrStrip(s, std::nullopt, true, true);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(t.c_str(), &end);
  if (*end != '\0') return std::nullopt;
  return d;
}

StatusOr<Value> Int(Interpreter&, const Value& v, CallArgs& a) {
  Value def = ArgOr(a, 0, "default", Value(0));
  ASSIGN_OR_RETURN(int64_t base, IntArg(a, 1, "base", 10));
  if (base != 0 && (base < 2 || base > 36))
    return InvalidArgumentError("int() base must be >= 2 and <= 36, or 0");
  if (v.is_int() || v.is_bool()) return Value(v.as_int());
  if (v.is_float()) {
    double d = v.as_double();
    if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return def;
    return Value(static_cast<int64_t>(d));
  }
  if (!v.is_string()) return def;
  if (auto i = ParseInt(v.str(), static_cast<int>(base))) return Value(*i);
  if (auto d = ParseFloat(v.str()); d && std::isfinite(*d) && std::fabs(*d) < 9.2e18) {
    return Value(static_cast<int64_t>(*d));
  }
  return def;
}

StatusOr<Value> Float(Interpreter&, const Value& v, CallArgs& a) {
  Value def = ArgOr(a, 0, "default", Value(0.0));
  if (v.is_number()) return Value(v.as_double());
  if (v.is_string()) {
    if (auto d = ParseFloat(v.str())) return Value(*d);
  }
  return def;
}

StatusOr<Value> Abs(Interpreter&, const Value& v, CallArgs&) {
  if (v.is_float()) return Value(std::fabs(v.as_double()));
  if (v.is_int() || v.is_bool()) {
    if (v.as_int() == INT64_MIN) return InvalidArgumentError("integer overflow");
    return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  return InvalidArgumentError("bad operand type for abs(): '" + v.TypeName() + "'");
}

StatusOr<Value> Round(Interpreter&, const Value& v, CallArgs& a) {
  if (!v.is_number()) return InvalidArgumentError("round() needs a number");
  ASSIGN_OR_RETURN(int64_t precision, IntArg(a, 0, "precision", 0));
  std::string method = PyStr(ArgOr(a, 1, "method", Value("common")));
  double x = v.as_double();
  if (precision < 0 || precision > 300) return InvalidArgumentError("round: bad precision");
  if (method == "ceil" || method == "floor") {
    double scale = std::pow(10.0, static_cast<double>(precision));
    double r = method == "ceil" ? std::ceil(x * scale) : std::floor(x * scale);
    return Value(r / scale);
  }
  if (method != "common") return InvalidArgumentError("method must be common, ceil or floor");
  if (!v.is_float()) return Value(v.as_int());  // Python round(int, n) stays an int
  // printf rounds the exact binary value half-to-even, like Python's round().
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(precision), x);
  return Value(std::strtod(buf, nullptr));
}

// transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None,
// sort_keys=False); unlike jinja2's own, no HTML escaping and no key sorting.
StatusOr<Value> ToJson(Interpreter&, const Value& v, CallArgs& a) {
  JsonOptions o;
  o.ensure_ascii = ArgOr(a, 0, "ensure_ascii", Value(false)).Truthy();
  Value indent = ArgOr(a, 1, "indent", Value::None());
  Value separators = ArgOr(a, 2, "separators", Value::None());
  o.sort_keys = ArgOr(a, 3, "sort_keys", Value(false)).Truthy();
  if (indent.is_string()) {
    o.indent = indent.str();
  } else if (indent.is_int()) {
    o.indent = std::string(std::max<int64_t>(0, std::min<int64_t>(indent.as_int(), 1024)), ' ');
  } else if (!indent.is_none()) {
    return InvalidArgumentError("tojson: indent must be int, str or None");
  }
  if (o.indent) o.item_separator = ",";
  if (separators.is_list() && separators.list().items.size() == 2 &&
      separators.list().items[0].is_string() && separators.list().items[1].is_string()) {
    o.item_separator = separators.list().items[0].str();
    o.key_separator = separators.list().items[1].str();
  } else if (!separators.is_none()) {
    return InvalidArgumentError("tojson: separators must be a (item, key) pair of strings");
  }
  ASSIGN_OR_RETURN(std::string s, JsonDumps(v, o));
  return Value(std::move(s));
}

const FilterTable& Table() {
  static const FilterTable* table = [] {
    auto* t = new FilterTable{
        {"trim", Trim},     {"upper", Upper},           {"lower", Lower},
        {"title", Title},   {"capitalize", Capitalize}, {"string", String},
        {"safe", Safe},     {"replace", Replace},       {"e", Escape},
        {"escape", Escape}, {"forceescape", Escape},    {"indent", Indent},
        {"center", Center}, {"wordcount", WordCount},   {"format", Format},
        {"int", Int},       {"float", Float},           {"abs", Abs},
        {"round", Round},   {"tojson", ToJson},
    };
    AddSequenceFilters(t);
    return t;
  }();
  return *table;
}

}  // namespace

bool HasFilter(const std::string& name) { return Table().count(name) != 0; }

StatusOr<Value> CallFilter(Interpreter& in, const std::string& name, const Value& v,
                           CallArgs& args) {
  const FilterTable& t = Table();
  auto it = t.find(name);
  if (it == t.end()) return InvalidArgumentError("No filter named '" + name + "'.");
  return it->second(in, v, args);
}

}  // namespace pagellm::jinja

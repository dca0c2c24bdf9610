#include "tokenizer/jinja/pyformat.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace pagellm::jinja {
namespace {

// Approximates Python's str.isprintable() without a Unicode database: the code points that
// are non-printable and plausible in chat data (controls, separators, format characters).
bool IsPyPrintable(char32_t c) {
  if (c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad) return false;
  if ((c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f)) return false;
  if ((c >= 0x205f && c <= 0x206f) || c == 0x3000 || c == 0xfeff || c == 0x1680) return false;
  if ((c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff9 && c <= 0xfffb)) return false;
  if (c >= 0xe0000 || c > 0x10ffff) return false;
  return true;
}

void AppendHexEscape(char32_t c, std::string* out) {
  char buf[16];
  if (c < 0x100) {
    std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
  } else if (c < 0x10000) {
    std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
  } else {
    std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(c));
  }
  *out += buf;
}

void JsonString(std::string_view s, bool ensure_ascii, std::string* out) {
  out->push_back('"');
  for (char32_t c : DecodeUtf8(s)) {
    char buf[16];
    switch (c) {
      case '"':
        *out += "\\\"";
        continue;
      case '\\':
        *out += "\\\\";
        continue;
      case '\n':
        *out += "\\n";
        continue;
      case '\r':
        *out += "\\r";
        continue;
      case '\t':
        *out += "\\t";
        continue;
      case '\b':
        *out += "\\b";
        continue;
      case '\f':
        *out += "\\f";
        continue;
      default:
        break;
    }
    if (c < 0x20 || (ensure_ascii && c >= 0x7f)) {
      if (c >= 0x10000) {  // surrogate pair, as Python does
        char32_t v = c - 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", static_cast<unsigned>(0xd800 + (v >> 10)),
                      static_cast<unsigned>(0xdc00 + (v & 0x3ff)));
      } else {
        std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      }
      *out += buf;
    } else {
      AppendUtf8(c, out);
    }
  }
  out->push_back('"');
}

Status JsonValue(const Value& v, const JsonOptions& o, int level, std::string* out);

void JsonNewline(const JsonOptions& o, int level, std::string* out) {
  out->push_back('\n');
  for (int i = 0; i < level; ++i) *out += *o.indent;
}

StatusOr<std::string> JsonKey(const Value& k) {
  if (k.is_string()) return k.str();
  if (k.is_bool()) return std::string(k.as_bool() ? "true" : "false");
  if (k.is_none()) return std::string("null");
  if (k.is_int()) return std::to_string(k.as_int());
  if (k.is_float()) return FloatRepr(k.as_double());
  return InvalidArgumentError("keys must be str, int, float, bool or None, not " + k.TypeName());
}

Status JsonContainer(const Value& v, const JsonOptions& o, int level, std::string* out) {
  bool is_list = v.is_list();
  size_t n = is_list ? v.list().items.size() : v.dict().size();
  if (n == 0) {
    *out += is_list ? "[]" : "{}";
    return OkStatus();
  }
  if (level > 256) return InvalidArgumentError("tojson: nesting too deep");
  std::vector<std::pair<std::string, const Value*>> entries;
  if (!is_list) {
    for (const auto& [k, val] : v.dict().items()) {
      ASSIGN_OR_RETURN(std::string key, JsonKey(k));
      entries.emplace_back(std::move(key), &val);
    }
    if (o.sort_keys) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    }
  }
  out->push_back(is_list ? '[' : '{');
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) *out += o.item_separator;
    if (o.indent) JsonNewline(o, level + 1, out);
    if (is_list) {
      RETURN_IF_ERROR(JsonValue(v.list().items[i], o, level + 1, out));
    } else {
      JsonString(entries[i].first, o.ensure_ascii, out);
      *out += o.key_separator;
      RETURN_IF_ERROR(JsonValue(*entries[i].second, o, level + 1, out));
    }
  }
  if (o.indent) JsonNewline(o, level, out);
  out->push_back(is_list ? ']' : '}');
  return OkStatus();
}

Status JsonValue(const Value& v, const JsonOptions& o, int level, std::string* out) {
  switch (v.kind()) {
    case Value::Kind::kNone:
      *out += "null";
      return OkStatus();
    case Value::Kind::kBool:
      *out += v.as_bool() ? "true" : "false";
      return OkStatus();
    case Value::Kind::kInt:
      *out += std::to_string(v.as_int());
      return OkStatus();
    case Value::Kind::kFloat: {
      double d = v.as_double();
      if (std::isnan(d))
        *out += "NaN";
      else if (std::isinf(d))
        *out += d > 0 ? "Infinity" : "-Infinity";
      else
        *out += FloatRepr(d);
      return OkStatus();
    }
    case Value::Kind::kString:
      JsonString(v.str(), o.ensure_ascii, out);
      return OkStatus();
    case Value::Kind::kList:
    case Value::Kind::kDict:
      return JsonContainer(v, o, level, out);
    default:
      return InvalidArgumentError("Object of type " + v.TypeName() + " is not JSON serializable");
  }
}

void ReprContainer(const Value& v, std::string* out, int depth) {
  if (depth > 200) {
    *out += "...";
    return;
  }
  if (v.is_list()) {
    const List& l = v.list();
    *out += l.is_tuple ? "(" : "[";
    for (size_t i = 0; i < l.items.size(); ++i) {
      if (i > 0) *out += ", ";
      if (l.items[i].is_list() || l.items[i].is_dict())
        ReprContainer(l.items[i], out, depth + 1);
      else
        *out += PyRepr(l.items[i]);
    }
    if (l.is_tuple && l.items.size() == 1) *out += ",";
    *out += l.is_tuple ? ")" : "]";
    return;
  }
  *out += "{";
  bool first = true;
  for (const auto& [k, val] : v.dict().items()) {
    if (!first) *out += ", ";
    first = false;
    *out += PyRepr(k);
    *out += ": ";
    if (val.is_list() || val.is_dict())
      ReprContainer(val, out, depth + 1);
    else
      *out += PyRepr(val);
  }
  *out += "}";
}

}  // namespace

std::string FloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci looks like "-1.2345e+17": split sign, digits and exponent.
  bool neg = sci[0] == '-';
  size_t epos = sci.find('e');
  std::string mant = sci.substr(neg ? 1 : 0, epos - (neg ? 1 : 0));
  int exp = std::stoi(sci.substr(epos + 1));
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  std::string out = neg ? "-" : "";
  if (exp >= -4 && exp < 16) {
    int point = exp + 1;  // digits before the decimal point
    if (point <= 0) {
      out += "0." + std::string(-point, '0') + digits;
    } else if (point >= static_cast<int>(digits.size())) {
      out += digits + std::string(point - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, point) + "." + digits.substr(point);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  return out + ebuf;
}

std::string StrRepr(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : DecodeUtf8(s)) {
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (!IsPyPrintable(c)) {
      AppendHexEscape(c, &out);
    } else {
      AppendUtf8(c, &out);
    }
  }
  out.push_back(quote);
  return out;
}

std::string PyStr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "";
    case Value::Kind::kString:
      return v.str();
    default:
      return PyRepr(v);
  }
}

std::string PyRepr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "";
    case Value::Kind::kNone:
      return "None";
    case Value::Kind::kBool:
      return v.as_bool() ? "True" : "False";
    case Value::Kind::kInt:
      return std::to_string(v.as_int());
    case Value::Kind::kFloat:
      return FloatRepr(v.as_double());
    case Value::Kind::kString:
      return StrRepr(v.str());
    case Value::Kind::kList:
    case Value::Kind::kDict: {
      std::string out;
      ReprContainer(v, &out, 0);
      return out;
    }
    case Value::Kind::kCallable:
      return "<function " + v.callable().name + ">";
    case Value::Kind::kNamespace: {
      std::string inner;
      Value copy = Value::MakeDict();
      for (const auto& [k, val] : v.dict().items()) (void)copy.dict().Set(k, val);
      ReprContainer(copy, &inner, 0);
      return "<Namespace " + inner + ">";
    }
  }
  return "";
}

StatusOr<std::string> JsonDumps(const Value& v, const JsonOptions& opts) {
  std::string out;
  RETURN_IF_ERROR(JsonValue(v, opts, 0, &out));
  return out;
}

std::vector<char32_t> DecodeUtf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!ok) {
      out.push_back(c);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | ((c >> 18) & 0x07)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
  }
}

std::string EncodeUtf8(const std::vector<char32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < cps.size(); ++i) AppendUtf8(cps[i], &out);
  return out;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
  }
  return n;
}

bool IsPySpace(char32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || c == 0x85 ||
         c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
         c == 0x202f || c == 0x205f || c == 0x3000;
}

}  // namespace pagellm::jinja

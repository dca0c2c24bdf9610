// Python-compatible text formatting of Values: str(), repr(), float repr and json.dumps, so
// that rendered chat templates are byte-identical to what jinja2 produces. Plus UTF-8 helpers
// (Python strings index code points, ours are UTF-8 bytes).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/jinja/value.h"

namespace pagellm::jinja {

// Python str(v); Undefined prints as "".
std::string PyStr(const Value& v);
// Python repr(v).
std::string PyRepr(const Value& v);
// Python repr(float): shortest round-trip digits, "1.0", "1e-05", "1e+16", "inf", "nan".
std::string FloatRepr(double d);
// Python repr(str): quotes and escapes like CPython.
std::string StrRepr(std::string_view s);

struct JsonOptions {
  std::optional<std::string> indent;  // nullopt: single line
  std::string item_separator = ", ";  // Python defaults; "," when indent is set
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};
// Python json.dumps(v, ...). Fails for undefined / callables like Python's TypeError.
StatusOr<std::string> JsonDumps(const Value& v, const JsonOptions& opts);

// UTF-8 <-> code points. Invalid bytes decode as U+FFFD-free pass-through (byte value).
std::vector<char32_t> DecodeUtf8(std::string_view s);
void AppendUtf8(char32_t c, std::string* out);
std::string EncodeUtf8(const std::vector<char32_t>& cps, size_t begin, size_t end);
size_t Utf8Length(std::string_view s);
// Python str.isspace() for one code point.
bool IsPySpace(char32_t c);

}  // namespace pagellm::jinja

// Filter tables (internal). filters.cc holds the string/number filters and the lookup;
// filters_seq.cc the sequence filters.
#pragma once

#include <string>
#include <unordered_map>

#include "tokenizer/jinja/interpreter.h"

namespace pagellm::jinja {

using FilterFn = StatusOr<Value> (*)(Interpreter&, const Value&, CallArgs&);
using FilterTable = std::unordered_map<std::string, FilterFn>;

void AddSequenceFilters(FilterTable* table);

// jinja2's make_attrgetter: "a.b.0" walks items/attributes; a missing step gives Undefined.
StatusOr<Value> GetAttrPath(Interpreter& in, const Value& v, const Value& path);

}  // namespace pagellm::jinja

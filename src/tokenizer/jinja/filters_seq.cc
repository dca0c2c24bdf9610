// Sequence and mapping filters: length, default, list, first/last, join, sort, unique,
// reverse, items, dictsort, map, select/reject(attr), sum, min/max, batch, attr.
#include <algorithm>

#include "tokenizer/jinja/filters.h"
#include "tokenizer/jinja/pyformat.h"
#include "tokenizer/jinja/strings.h"

namespace pagellm::jinja {
namespace {

StatusOr<Value> LengthF(Interpreter&, const Value& v, CallArgs&) {
  ASSIGN_OR_RETURN(int64_t n, Length(v));
  return Value(n);
}

StatusOr<Value> Default(Interpreter&, const Value& v, CallArgs& a) {
  Value def = ArgOr(a, 0, "default_value", Value(""));
  bool boolean = ArgOr(a, 1, "boolean", Value(false)).Truthy();
  if (v.is_undefined() || (boolean && !v.Truthy())) return def;
  return v;
}

StatusOr<Value> ListF(Interpreter&, const Value& v, CallArgs&) {
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  return Value::MakeList(std::move(items));
}

StatusOr<Value> First(Interpreter&, const Value& v, CallArgs&) {
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  if (items.empty()) return Value::MakeUndefined("No first item, sequence was empty.");
  return items.front();
}

StatusOr<Value> Last(Interpreter&, const Value& v, CallArgs&) {
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  if (items.empty()) return Value::MakeUndefined("No last item, sequence was empty.");
  return items.back();
}

// Applies the optional `attribute` argument to each item.
StatusOr<std::vector<Value>> Keyed(Interpreter& in, const std::vector<Value>& items,
                                   const Value& attribute, bool lower_strings) {
  std::vector<Value> keys;
  keys.reserve(items.size());
  for (const Value& item : items) {
    Value k = item;
    if (!attribute.is_none() && !attribute.is_undefined()) {
      ASSIGN_OR_RETURN(k, GetAttrPath(in, item, attribute));
    }
    if (lower_strings && k.is_string()) k = Value(StrLower(k.str()));
    keys.push_back(std::move(k));
  }
  return keys;
}

StatusOr<Value> Join(Interpreter& in, const Value& v, CallArgs& a) {
  std::string sep = PyStr(ArgOr(a, 0, "d", Value("")));
  Value attribute = ArgOr(a, 1, "attribute", Value::None());
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  ASSIGN_OR_RETURN(items, Keyed(in, items, attribute, false));
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += PyStr(items[i]);
    RETURN_IF_ERROR(in.CheckSize(out.size()));
  }
  return Value(std::move(out));
}

// Sorts items by keys with Python's ordering; fails on incomparable types like Python.
Status SortByKeys(std::vector<Value>* items, std::vector<Value>* keys, bool reverse) {
  std::vector<size_t> order(items->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Status err;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    auto c = CompareValues((*keys)[x], (*keys)[y]);
    if (!c.ok()) {
      err = c.status();
      return false;
    }
    return reverse ? *c > 0 : *c < 0;
  });
  RETURN_IF_ERROR(err);
  std::vector<Value> sorted;
  for (size_t i : order) sorted.push_back((*items)[i]);
  *items = std::move(sorted);
  return OkStatus();
}

StatusOr<Value> Sort(Interpreter& in, const Value& v, CallArgs& a) {
  bool reverse = ArgOr(a, 0, "reverse", Value(false)).Truthy();
  bool case_sensitive = ArgOr(a, 1, "case_sensitive", Value(false)).Truthy();
  Value attribute = ArgOr(a, 2, "attribute", Value::None());
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  ASSIGN_OR_RETURN(std::vector<Value> keys, Keyed(in, items, attribute, !case_sensitive));
  RETURN_IF_ERROR(SortByKeys(&items, &keys, reverse));
  return Value::MakeList(std::move(items));
}

StatusOr<Value> Unique(Interpreter& in, const Value& v, CallArgs& a) {
  bool case_sensitive = ArgOr(a, 0, "case_sensitive", Value(false)).Truthy();
  Value attribute = ArgOr(a, 1, "attribute", Value::None());
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  ASSIGN_OR_RETURN(std::vector<Value> keys, Keyed(in, items, attribute, !case_sensitive));
  Dict seen;
  std::vector<Value> out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (seen.Find(keys[i]) != nullptr) continue;
    RETURN_IF_ERROR(seen.Set(keys[i], Value(true)));
    out.push_back(items[i]);
  }
  return Value::MakeList(std::move(out));
}

StatusOr<Value> Reverse(Interpreter&, const Value& v, CallArgs&) {
  if (v.is_string()) {
    std::vector<char32_t> cps = DecodeUtf8(v.str());
    std::reverse(cps.begin(), cps.end());
    return Value(EncodeUtf8(cps, 0, cps.size()));
  }
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  std::reverse(items.begin(), items.end());
  return Value::MakeList(std::move(items));
}

StatusOr<Value> Items(Interpreter&, const Value& v, CallArgs&) {
  if (v.is_undefined()) return Value::MakeList();
  if (!v.is_dict()) return InvalidArgumentError("Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& [k, val] : v.dict().items()) out.push_back(Value::MakeList({k, val}, true));
  return Value::MakeList(std::move(out));
}

StatusOr<Value> DictSort(Interpreter&, const Value& v, CallArgs& a) {
  bool case_sensitive = ArgOr(a, 0, "case_sensitive", Value(false)).Truthy();
  std::string by = PyStr(ArgOr(a, 1, "by", Value("key")));
  bool reverse = ArgOr(a, 2, "reverse", Value(false)).Truthy();
  if (!v.is_dict()) return InvalidArgumentError("dictsort needs a mapping");
  std::vector<Value> items, keys;
  for (const auto& [k, val] : v.dict().items()) {
    items.push_back(Value::MakeList({k, val}, true));
    Value key = by == "value" ? val : k;
    if (!case_sensitive && key.is_string()) key = Value(StrLower(key.str()));
    keys.push_back(key);
  }
  RETURN_IF_ERROR(SortByKeys(&items, &keys, reverse));
  return Value::MakeList(std::move(items));
}

StatusOr<Value> Map(Interpreter& in, const Value& v, CallArgs& a) {
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  const Value* attribute = FindArg(a, SIZE_MAX, "attribute");
  std::vector<Value> out;
  if (attribute != nullptr) {
    const Value* def = FindArg(a, SIZE_MAX, "default");
    for (const Value& item : items) {
      ASSIGN_OR_RETURN(Value r, GetAttrPath(in, item, *attribute));
      out.push_back(r.is_undefined() && def ? *def : r);
    }
    return Value::MakeList(std::move(out));
  }
  if (a.args.empty() || !a.args[0].is_string()) return InvalidArgumentError("map: no filter");
  std::string filter = a.args[0].str();
  CallArgs rest{std::vector<Value>(a.args.begin() + 1, a.args.end()), a.kwargs};
  for (const Value& item : items) {
    CallArgs call = rest;
    ASSIGN_OR_RETURN(Value r, in.ApplyFilter(filter, item, call));
    out.push_back(std::move(r));
  }
  return Value::MakeList(std::move(out));
}

// select / reject / selectattr / rejectattr.
StatusOr<Value> SelectImpl(Interpreter& in, const Value& v, CallArgs& a, bool by_attr, bool keep) {
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  size_t next = 0;
  Value attribute;
  if (by_attr) {
    if (a.args.empty()) return InvalidArgumentError("Missing parameter for attribute name");
    attribute = a.args[next++];
  }
  std::string test;
  if (next < a.args.size()) test = PyStr(a.args[next++]);
  CallArgs rest{std::vector<Value>(a.args.begin() + next, a.args.end()), a.kwargs};
  std::vector<Value> out;
  for (const Value& item : items) {
    Value subject = item;
    if (by_attr) {
      ASSIGN_OR_RETURN(subject, GetAttrPath(in, item, attribute));
    }
    bool r;
    if (test.empty()) {
      r = subject.Truthy();
    } else {
      CallArgs call = rest;
      ASSIGN_OR_RETURN(r, in.ApplyTest(test, subject, call));
    }
    if (r == keep) out.push_back(item);
  }
  return Value::MakeList(std::move(out));
}

StatusOr<Value> Select(Interpreter& in, const Value& v, CallArgs& a) {
  return SelectImpl(in, v, a, false, true);
}
StatusOr<Value> Reject(Interpreter& in, const Value& v, CallArgs& a) {
  return SelectImpl(in, v, a, false, false);
}
StatusOr<Value> SelectAttr(Interpreter& in, const Value& v, CallArgs& a) {
  return SelectImpl(in, v, a, true, true);
}
StatusOr<Value> RejectAttr(Interpreter& in, const Value& v, CallArgs& a) {
  return SelectImpl(in, v, a, true, false);
}

StatusOr<Value> Sum(Interpreter& in, const Value& v, CallArgs& a) {
  Value attribute = ArgOr(a, 0, "attribute", Value::None());
  Value total = ArgOr(a, 1, "start", Value(0));
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  ASSIGN_OR_RETURN(items, Keyed(in, items, attribute, false));
  for (const Value& x : items) {
    ASSIGN_OR_RETURN(total, BinaryOp("+", total, x, in.limits().max_output_bytes));
  }
  return total;
}

StatusOr<Value> MinMax(Interpreter& in, const Value& v, CallArgs& a, bool want_max) {
  bool case_sensitive = ArgOr(a, 0, "case_sensitive", Value(false)).Truthy();
  Value attribute = ArgOr(a, 1, "attribute", Value::None());
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  if (items.empty()) {
    return Value::MakeUndefined(std::string("No aggregated item, sequence was empty."));
  }
  ASSIGN_OR_RETURN(std::vector<Value> keys, Keyed(in, items, attribute, !case_sensitive));
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    ASSIGN_OR_RETURN(int c, CompareValues(keys[i], keys[best]));
    if (want_max ? c > 0 : c < 0) best = i;
  }
  return items[best];
}

StatusOr<Value> Min(Interpreter& in, const Value& v, CallArgs& a) {
  return MinMax(in, v, a, false);
}
StatusOr<Value> Max(Interpreter& in, const Value& v, CallArgs& a) { return MinMax(in, v, a, true); }

StatusOr<Value> Batch(Interpreter&, const Value& v, CallArgs& a) {
  ASSIGN_OR_RETURN(int64_t n, IntArg(a, 0, "linecount", 1));
  const Value* fill = FindArg(a, 1, "fill_with");
  if (n <= 0) return InvalidArgumentError("batch size must be positive");
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  std::vector<Value> out;
  for (size_t i = 0; i < items.size(); i += n) {
    std::vector<Value> row(items.begin() + i,
                           items.begin() + std::min<size_t>(i + n, items.size()));
    while (fill && !fill->is_none() && static_cast<int64_t>(row.size()) < n) row.push_back(*fill);
    out.push_back(Value::MakeList(std::move(row)));
  }
  return Value::MakeList(std::move(out));
}

StatusOr<Value> Attr(Interpreter& in, const Value& v, CallArgs& a) {
  Value name = ArgOr(a, 0, "name", Value(""));
  if (v.is_undefined()) return InvalidArgumentError(v.undefined_hint());
  Value m = GetMethod(v, PyStr(name));
  if (!m.is_undefined()) return m;
  if (v.is_namespace()) {
    const Value* x = v.dict().Find(name);
    if (x) return *x;
  }
  return Value::MakeUndefined("'" + v.TypeName() + " object' has no attribute '" + PyStr(name) +
                              "'");
}

}  // namespace

StatusOr<Value> GetAttrPath(Interpreter& in, const Value& v, const Value& path) {
  std::vector<Value> parts;
  if (path.is_string()) {
    for (const std::string& p : StrSplit(path.str(), std::string("."), -1)) {
      bool digits =
          !p.empty() && p.size() < 18 && p.find_first_not_of("0123456789") == std::string::npos;
      parts.push_back(digits ? Value(static_cast<int64_t>(std::stoll(p))) : Value(p));
    }
  } else {
    parts.push_back(path);
  }
  Value cur = v;
  for (const Value& p : parts) {
    if (cur.is_undefined()) return cur;
    ASSIGN_OR_RETURN(cur, in.GetItem(cur, p));
  }
  return cur;
}

void AddSequenceFilters(FilterTable* t) {
  t->insert({{"length", LengthF},
             {"count", LengthF},
             {"default", Default},
             {"d", Default},
             {"list", ListF},
             {"first", First},
             {"last", Last},
             {"join", Join},
             {"sort", Sort},
             {"unique", Unique},
             {"reverse", Reverse},
             {"items", Items},
             {"dictsort", DictSort},
             {"map", Map},
             {"select", Select},
             {"reject", Reject},
             {"selectattr", SelectAttr},
             {"rejectattr", RejectAttr},
             {"sum", Sum},
             {"min", Min},
             {"max", Max},
             {"batch", Batch},
             {"attr", Attr}});
}

}  // namespace pagellm::jinja

// Expression evaluation and jinja2's attribute/item lookup rules.
#include <cmath>

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/pyformat.h"

namespace pagellm::jinja {
namespace {

struct DepthGuard {
  int* depth;
  ~DepthGuard() { --*depth; }
};

Value NoAttribute(const Value& obj, const std::string& name) {
  return Value::MakeUndefined("'" + obj.TypeName() + " object' has no attribute '" + name + "'");
}

// Python slice index normalisation (PySlice_AdjustIndices).
void AdjustSlice(int64_t len, const Value& start_v, const Value& stop_v, int64_t step,
                 int64_t* start, int64_t* stop) {
  auto norm = [&](const Value& v, int64_t def, int64_t lo, int64_t hi) {
    if (!v.is_number()) return def;
    int64_t x = v.as_int();
    if (x < 0) x += len;
    return x < lo ? lo : (x > hi ? hi : x);
  };
  if (step > 0) {
    *start = norm(start_v, 0, 0, len);
    *stop = norm(stop_v, len, 0, len);
  } else {
    *start = norm(start_v, len - 1, -1, len - 1);
    *stop = norm(stop_v, -1, -1, len - 1);
  }
}

}  // namespace

StatusOr<Value> Interpreter::Eval(const Expr& e) {
  if (++depth_ > limits_.max_depth) {
    --depth_;
    return ResourceExhaustedError("template nesting too deep");
  }
  DepthGuard guard{&depth_};
  RETURN_IF_ERROR(Step());
  auto v = EvalInner(e);
  if (v.ok() && v->is_string()) RETURN_IF_ERROR(CheckSize(v->str().size()));
  if (v.ok() && v->is_list()) RETURN_IF_ERROR(CheckSize(v->list().items.size() * 8));
  return v;
}

StatusOr<Value> Interpreter::EvalInner(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kConst:
      return e.value;
    case Expr::Kind::kName:
      return Lookup(e.name);
    case Expr::Kind::kGetattr: {
      ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
      return GetAttr(obj, e.name);
    }
    case Expr::Kind::kGetitem: {
      ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
      ASSIGN_OR_RETURN(Value key, Eval(*e.args[1]));
      return GetItem(obj, key);
    }
    case Expr::Kind::kSlice:
      return EvalSlice(e);
    case Expr::Kind::kCall: {
      ASSIGN_OR_RETURN(Value fn, Eval(*e.args[0]));
      CallArgs args;
      RETURN_IF_ERROR(EvalCallArgs(e, &args));
      return Call(fn, args);
    }
    case Expr::Kind::kFilter: {
      ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
      CallArgs args;
      RETURN_IF_ERROR(EvalCallArgs(e, &args));
      return ApplyFilter(e.name, v, args);
    }
    case Expr::Kind::kTest: {
      ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
      CallArgs args;
      RETURN_IF_ERROR(EvalCallArgs(e, &args));
      ASSIGN_OR_RETURN(bool r, ApplyTest(e.name, v, args));
      return Value(r != e.negate);
    }
    case Expr::Kind::kNeg:
    case Expr::Kind::kPos: {
      ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
      if (v.is_undefined()) return InvalidArgumentError(v.undefined_hint());
      if (!v.is_number()) {
        return InvalidArgumentError(std::string("bad operand type for unary ") +
                                    (e.kind == Expr::Kind::kNeg ? "-" : "+") + ": '" +
                                    v.TypeName() + "'");
      }
      if (e.kind == Expr::Kind::kPos) return v.is_bool() ? Value(v.as_int()) : v;
      if (v.is_float()) return Value(-v.as_double());
      if (v.as_int() == INT64_MIN) return InvalidArgumentError("integer overflow");
      return Value(-v.as_int());
    }
    case Expr::Kind::kNot: {
      ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
      return Value(!v.Truthy());
    }
    case Expr::Kind::kBinary: {
      ASSIGN_OR_RETURN(Value a, Eval(*e.args[0]));
      ASSIGN_OR_RETURN(Value b, Eval(*e.args[1]));
      return BinaryOp(e.name, a, b, limits_.max_output_bytes);
    }
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      ASSIGN_OR_RETURN(Value a, Eval(*e.args[0]));
      if (a.Truthy() == (e.kind == Expr::Kind::kOr)) return a;
      return Eval(*e.args[1]);
    }
    case Expr::Kind::kCompare:
      return EvalCompare(e);
    case Expr::Kind::kCondExpr: {
      ASSIGN_OR_RETURN(Value c, Eval(*e.args[0]));
      if (c.Truthy()) return Eval(*e.args[1]);
      if (e.args[2]) return Eval(*e.args[2]);
      return Value::MakeUndefined("the inline if-expression on line " + std::to_string(e.line) +
                                  " evaluated to false and no else section was defined.");
    }
    case Expr::Kind::kList:
    case Expr::Kind::kTuple:
    case Expr::Kind::kDict:
      return EvalLiteral(e);
  }
  return InternalError("unknown expression kind");
}

StatusOr<Value> Interpreter::EvalLiteral(const Expr& e) {
  if (e.kind == Expr::Kind::kDict) {
    Value d = Value::MakeDict();
    for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
      ASSIGN_OR_RETURN(Value k, Eval(*e.args[i]));
      ASSIGN_OR_RETURN(Value v, Eval(*e.args[i + 1]));
      RETURN_IF_ERROR(d.dict().Set(k, std::move(v)));
    }
    return d;
  }
  std::vector<Value> items;
  items.reserve(e.args.size());
  for (const ExprPtr& a : e.args) {
    ASSIGN_OR_RETURN(Value v, Eval(*a));
    items.push_back(std::move(v));
  }
  return Value::MakeList(std::move(items), e.kind == Expr::Kind::kTuple);
}

StatusOr<Value> Interpreter::EvalCompare(const Expr& e) {
  ASSIGN_OR_RETURN(Value left, Eval(*e.args[0]));
  for (size_t i = 0; i < e.ops.size(); ++i) {
    ASSIGN_OR_RETURN(Value right, Eval(*e.args[i + 1]));
    const std::string& op = e.ops[i];
    bool r;
    if (op == "==" || op == "!=") {
      r = ValuesEqual(left, right) == (op == "==");
    } else if (op == "in" || op == "notin") {
      ASSIGN_OR_RETURN(bool c, Contains(right, left));
      r = c == (op == "in");
    } else {
      if (left.is_undefined() || right.is_undefined()) {
        return InvalidArgumentError((left.is_undefined() ? left : right).undefined_hint());
      }
      auto c = CompareValues(left, right);
      if (!c.ok()) {
        return InvalidArgumentError("'" + op + "' not supported between instances of '" +
                                    left.TypeName() + "' and '" + right.TypeName() + "'");
      }
      r = op == "<" ? *c < 0 : op == "<=" ? *c <= 0 : op == ">" ? *c > 0 : *c >= 0;
    }
    if (!r) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

StatusOr<Value> Interpreter::EvalSlice(const Expr& e) {
  ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
  Value parts[3];
  for (int i = 0; i < 3; ++i) {
    if (e.args[i + 1]) {
      ASSIGN_OR_RETURN(parts[i], Eval(*e.args[i + 1]));
      if (!parts[i].is_none() && !parts[i].is_int() && !parts[i].is_bool()) {
        return InvalidArgumentError("slice indices must be integers or None");
      }
    }
  }
  if (obj.is_undefined()) return InvalidArgumentError(obj.undefined_hint());
  int64_t step = parts[2].is_number() ? parts[2].as_int() : 1;
  if (step == 0) return InvalidArgumentError("slice step cannot be zero");
  bool is_str = obj.is_string();
  if (!is_str && !obj.is_list()) {
    return InvalidArgumentError("'" + obj.TypeName() + "' object is not subscriptable");
  }
  std::vector<char32_t> cps;
  if (is_str) cps = DecodeUtf8(obj.str());
  int64_t len =
      is_str ? static_cast<int64_t>(cps.size()) : static_cast<int64_t>(obj.list().items.size());
  int64_t start, stop;
  AdjustSlice(len, parts[0], parts[1], step, &start, &stop);
  std::string s;
  std::vector<Value> items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (is_str)
      AppendUtf8(cps[i], &s);
    else
      items.push_back(obj.list().items[i]);
  }
  if (is_str) return Value(std::move(s));
  return Value::MakeList(std::move(items), obj.list().is_tuple);
}

Status Interpreter::EvalCallArgs(const Expr& e, CallArgs* args) {
  for (size_t i = e.first_call_arg; i < e.args.size(); ++i) {
    ASSIGN_OR_RETURN(Value v, Eval(*e.args[i]));
    args->args.push_back(std::move(v));
  }
  for (const auto& [k, expr] : e.kwargs) {
    ASSIGN_OR_RETURN(Value v, Eval(*expr));
    args->kwargs.emplace_back(k, std::move(v));
  }
  if (e.star_args) {
    ASSIGN_OR_RETURN(Value v, Eval(*e.star_args));
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
    for (Value& item : items) args->args.push_back(std::move(item));
  }
  if (e.star_kwargs) {
    ASSIGN_OR_RETURN(Value v, Eval(*e.star_kwargs));
    if (!v.is_dict()) return InvalidArgumentError("argument after ** must be a mapping");
    for (const auto& [k, val] : v.dict().items()) {
      if (!k.is_string()) return InvalidArgumentError("keywords must be strings");
      args->kwargs.emplace_back(k.str(), val);
    }
  }
  return OkStatus();
}

StatusOr<Value> Interpreter::Call(const Value& fn, CallArgs& args) {
  if (fn.is_undefined()) return InvalidArgumentError(fn.undefined_hint());
  if (!fn.is_callable()) {
    return InvalidArgumentError("'" + fn.TypeName() + "' object is not callable");
  }
  return fn.callable().fn(*this, args);
}

StatusOr<Value> Interpreter::ApplyFilter(const std::string& name, const Value& v, CallArgs& args) {
  return CallFilter(*this, name, v, args);
}

StatusOr<bool> Interpreter::ApplyTest(const std::string& name, const Value& v, CallArgs& args) {
  return CallTest(*this, name, v, args);
}

StatusOr<Value> Interpreter::GetAttr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) return InvalidArgumentError(obj.undefined_hint());
  if (!name.empty() && name[0] == '_') {
    return Value::MakeUndefined("access to attribute '" + name + "' is unsafe");
  }
  if (obj.is_namespace()) {
    const Value* v = obj.dict().Find(name);
    return v ? *v : NoAttribute(obj, name);
  }
  Value m = GetMethod(obj, name);
  if (!m.is_undefined()) return m;
  if (obj.is_dict()) {
    const Value* v = obj.dict().Find(name);
    if (v) return *v;
  }
  return NoAttribute(obj, name);
}

StatusOr<Value> Interpreter::GetItem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) return InvalidArgumentError(obj.undefined_hint());
  if (obj.is_dict()) {
    const Value* v = obj.dict().Find(key);
    if (v) return *v;
  } else if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.as_int();
    if (obj.is_list()) {
      int64_t n = static_cast<int64_t>(obj.list().items.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return obj.list().items[i];
    } else {
      std::vector<char32_t> cps = DecodeUtf8(obj.str());
      int64_t n = static_cast<int64_t>(cps.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return EncodeUtf8(cps, i, i + 1);
    }
    return Value::MakeUndefined("'" + obj.TypeName() + " object' has no element " +
                                std::to_string(key.as_int()));
  }
  if (key.is_string()) return GetAttr(obj, key.str());
  return Value::MakeUndefined("'" + obj.TypeName() + " object' has no element " + PyRepr(key));
}

}  // namespace pagellm::jinja

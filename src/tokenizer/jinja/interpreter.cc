// Statement execution: output, if, for (with loop object and else), set, macros, call/filter
// blocks and scoping.
#include "tokenizer/jinja/interpreter.h"

#include "tokenizer/jinja/pyformat.h"

namespace pagellm::jinja {
namespace {

struct DepthGuard {
  int* depth;
  ~DepthGuard() { --*depth; }
};

constexpr const char* kCaptured = "(captured)";

}  // namespace

Status TemplateRaised(std::string message) { return AbortedError(std::move(message)); }
bool IsTemplateRaised(const Status& s) { return s.code() == StatusCode::kAborted; }

Status Interpreter::LineError(int line, const Status& s) const {
  if (s.ok() || IsTemplateRaised(s) || s.message().rfind("line ", 0) == 0) return s;
  return Status(s.code(), "line " + std::to_string(line) + ": " + s.message());
}

Status Interpreter::Step() {
  if (++steps_ > limits_.max_steps) {
    return ResourceExhaustedError("template rendering exceeded the step limit");
  }
  return OkStatus();
}

Status Interpreter::CheckSize(size_t bytes) const {
  if (bytes > limits_.max_output_bytes) {
    return ResourceExhaustedError("template output exceeds " +
                                  std::to_string(limits_.max_output_bytes) + " bytes");
  }
  return OkStatus();
}

Status Interpreter::Append(std::string* out, std::string_view s) {
  RETURN_IF_ERROR(CheckSize(out->size() + s.size()));
  out->append(s);
  return OkStatus();
}

Interpreter::Interpreter(const RenderLimits& limits) : limits_(limits) {
  scopes_.emplace_back();
  InstallGlobals(this);
}

Status Interpreter::Render(const Body& body, std::string* out) { return Exec(body, out); }

Status Interpreter::Exec(const Body& body, std::string* out) {
  for (const NodePtr& n : body) {
    RETURN_IF_ERROR(ExecNode(*n, out));
    if (flow_ != Flow::kNormal) return OkStatus();
  }
  return OkStatus();
}

Status Interpreter::ExecNode(const Node& node, std::string* out) {
  if (++depth_ > limits_.max_depth) {
    --depth_;
    return ResourceExhaustedError("template nesting too deep");
  }
  DepthGuard guard{&depth_};
  RETURN_IF_ERROR(Step());
  Status st;
  switch (node.kind) {
    case Node::Kind::kText:
      return Append(out, node.text);
    case Node::Kind::kOutput: {
      auto v = Eval(*node.expr);
      if (!v.ok()) return LineError(node.line, v.status());
      return Append(out, PyStr(*v));
    }
    case Node::Kind::kIf:
      st = ExecIf(node, out);
      break;
    case Node::Kind::kFor:
      st = ExecFor(node, out);
      break;
    case Node::Kind::kSet:
    case Node::Kind::kSetBlock:
      st = ExecSet(node, out);
      break;
    case Node::Kind::kMacro:
      st = ExecMacro(node);
      break;
    case Node::Kind::kCallBlock:
      st = ExecCallBlock(node, out);
      break;
    case Node::Kind::kFilterBlock:
      st = ExecFilterBlock(node, out);
      break;
    case Node::Kind::kWith:
      st = ExecWith(node, out);
      break;
    case Node::Kind::kScope:
      st = Exec(node.body, out);
      break;
    case Node::Kind::kBreak:
    case Node::Kind::kContinue:
      if (loop_depth_ == 0)
        return LineError(node.line, InvalidArgumentError("break/continue outside a loop"));
      flow_ = node.kind == Node::Kind::kBreak ? Flow::kBreak : Flow::kContinue;
      return OkStatus();
  }
  return LineError(node.line, st);
}

Status Interpreter::ExecIf(const Node& node, std::string* out) {
  for (size_t i = 0; i < node.conds.size(); ++i) {
    ASSIGN_OR_RETURN(Value c, Eval(*node.conds[i]));
    if (c.Truthy()) return Exec(node.bodies[i], out);
  }
  return Exec(node.else_body, out);
}

// Updates the loop object in place for iteration i (one dict per loop, not per iteration).
void Interpreter::UpdateLoop(const std::vector<Value>& items, size_t i, Dict* d) {
  int64_t n = static_cast<int64_t>(items.size());
  int64_t k = static_cast<int64_t>(i);
  d->Set("index", Value(k + 1));
  d->Set("index0", Value(k));
  d->Set("revindex", Value(n - k));
  d->Set("revindex0", Value(n - k - 1));
  d->Set("first", Value(k == 0));
  d->Set("last", Value(k == n - 1));
  d->Set("length", Value(n));
  d->Set("depth", Value(1));
  d->Set("depth0", Value(0));
  d->Set("previtem", i > 0 ? items[i - 1] : Value::MakeUndefined("there is no previous item"));
  d->Set("nextitem",
         i + 1 < items.size() ? items[i + 1] : Value::MakeUndefined("there is no next item"));
}

Status Interpreter::ExecFor(const Node& node, std::string* out) {
  ASSIGN_OR_RETURN(Value seq, Eval(*node.expr));
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(seq));
  if (node.filter) {  // {% for x in xs if cond %}: filter before loop.* is computed
    std::vector<Value> kept;
    for (const Value& item : items) {
      RETURN_IF_ERROR(Step());
      scopes_.push_back(Scope{});
      Status st = Assign(node.target, item, node.line);
      StatusOr<Value> keep = st.ok() ? Eval(*node.filter) : StatusOr<Value>(st);
      scopes_.pop_back();
      if (!keep.ok()) return keep.status();
      if (keep->Truthy()) kept.push_back(item);
    }
    items = std::move(kept);
  }
  if (items.empty()) return Exec(node.else_body, out);
  Value loop = Value::MakeDict();
  auto index = std::make_shared<size_t>(0);
  Value cycle = Value::MakeCallable("cycle", [index](Interpreter&, CallArgs& a) -> StatusOr<Value> {
    if (a.args.empty()) return InvalidArgumentError("no items for cycling given");
    return a.args[*index % a.args.size()];
  });
  loop.dict().Set("cycle", cycle);
  ++loop_depth_;
  Status result;
  for (size_t i = 0; i < items.size(); ++i) {
    result = Step();
    if (!result.ok()) break;
    *index = i;
    scopes_.push_back(Scope{});
    UpdateLoop(items, i, &loop.dict());
    scopes_.back().vars["loop"] = loop;
    result = Assign(node.target, items[i], node.line);
    if (result.ok()) result = Exec(node.body, out);
    scopes_.pop_back();
    if (!result.ok()) break;
    Flow f = flow_;
    flow_ = Flow::kNormal;
    if (f == Flow::kBreak) break;
  }
  --loop_depth_;
  return result;
}

Status Interpreter::Assign(const Target& target, const Value& v, int line) {
  Scope& scope = scopes_.back();
  if (!target.attr.empty()) {
    Value ns = Lookup(target.names[0]);
    if (!ns.is_namespace()) {
      return InvalidArgumentError("cannot assign attribute on non-namespace object");
    }
    ns.dict().Set(target.attr, v);
    return OkStatus();
  }
  if (!target.is_tuple) {
    scope.vars[target.names[0]] = v;
    return OkStatus();
  }
  ASSIGN_OR_RETURN(std::vector<Value> parts, Iterate(v));
  if (parts.size() != target.names.size()) {
    return InvalidArgumentError(std::string(parts.size() > target.names.size()
                                                ? "too many values to unpack"
                                                : "not enough values to unpack") +
                                " (expected " + std::to_string(target.names.size()) + ", got " +
                                std::to_string(parts.size()) + ")");
  }
  for (size_t i = 0; i < parts.size(); ++i) scope.vars[target.names[i]] = parts[i];
  return OkStatus();
}

Status Interpreter::ExecSet(const Node& node, std::string* out) {
  if (node.kind == Node::Kind::kSet) {
    ASSIGN_OR_RETURN(Value v, Eval(*node.expr));
    return Assign(node.target, v, node.line);
  }
  std::string captured;
  RETURN_IF_ERROR(Exec(node.body, &captured));
  Value v(std::move(captured));
  if (node.expr) {
    scopes_.push_back(Scope{});
    scopes_.back().vars[kCaptured] = v;
    auto filtered = Eval(*node.expr);
    scopes_.pop_back();
    if (!filtered.ok()) return filtered.status();
    v = *filtered;
  }
  return Assign(node.target, v, node.line);
}

Status Interpreter::ExecFilterBlock(const Node& node, std::string* out) {
  std::string captured;
  RETURN_IF_ERROR(Exec(node.body, &captured));
  scopes_.push_back(Scope{});
  scopes_.back().vars[kCaptured] = Value(std::move(captured));
  auto v = Eval(*node.expr);
  scopes_.pop_back();
  if (!v.ok()) return v.status();
  return Append(out, PyStr(*v));
}

Status Interpreter::ExecWith(const Node& node, std::string* out) {
  Scope scope;
  for (const auto& [name, expr] : node.assigns) {
    ASSIGN_OR_RETURN(Value v, Eval(*expr));
    scope.vars[name] = std::move(v);
  }
  scopes_.push_back(std::move(scope));
  Status st = Exec(node.body, out);
  scopes_.pop_back();
  return st;
}

Status Interpreter::ExecMacro(const Node& node) {
  const Node* macro = &node;
  scopes_.back().vars[node.name] = Value::MakeCallable(
      node.name,
      [macro](Interpreter& in, CallArgs& a) { return in.CallMacro(*macro, a, nullptr); });
  return OkStatus();
}

Status Interpreter::ExecCallBlock(const Node& node, std::string* out) {
  const Node* block = &node;
  // The call body behaves like a macro with the block's parameters.
  Value caller = Value::MakeCallable(
      "caller", [block](Interpreter& in, CallArgs& a) { return in.CallMacro(*block, a, nullptr); });
  const Expr& call = *node.expr;
  ASSIGN_OR_RETURN(Value fn, Eval(*call.args[0]));
  CallArgs args;
  RETURN_IF_ERROR(EvalCallArgs(call, &args));
  args.kwargs.emplace_back("caller", caller);
  ASSIGN_OR_RETURN(Value result, Call(fn, args));
  return Append(out, PyStr(result));
}

StatusOr<Value> Interpreter::CallMacro(const Node& macro, CallArgs& args, const Value* caller) {
  if (depth_ + 1 > limits_.max_depth) return ResourceExhaustedError("macro recursion too deep");
  Scope scope;
  scope.barrier = true;
  std::vector<Value> varargs;
  for (size_t i = 0; i < args.args.size(); ++i) {
    if (i < macro.params.size())
      scope.vars[macro.params[i].name] = args.args[i];
    else
      varargs.push_back(args.args[i]);
  }
  Value kwargs = Value::MakeDict();
  for (auto& [k, v] : args.kwargs) {
    bool is_param = false;
    for (const MacroParam& p : macro.params) is_param = is_param || p.name == k;
    if (is_param)
      scope.vars[k] = v;
    else if (k == "caller")
      scope.vars["caller"] = v;
    else
      kwargs.dict().Set(k, v);
  }
  scope.vars["varargs"] = Value::MakeList(std::move(varargs), /*is_tuple=*/true);
  scope.vars["kwargs"] = kwargs;
  scopes_.push_back(std::move(scope));
  Status st;
  for (const MacroParam& p : macro.params) {  // defaults may refer to earlier parameters
    if (scopes_.back().vars.count(p.name)) continue;
    if (!p.default_value) {
      scopes_.back().vars[p.name] =
          Value::MakeUndefined("parameter '" + p.name + "' was not provided");
      continue;
    }
    auto v = Eval(*p.default_value);
    if (!v.ok()) {
      st = v.status();
      break;
    }
    scopes_.back().vars[p.name] = *v;
  }
  std::string out;
  int saved_loop_depth = loop_depth_;
  loop_depth_ = 0;
  if (st.ok()) st = Exec(macro.body, &out);
  loop_depth_ = saved_loop_depth;
  flow_ = Flow::kNormal;
  scopes_.pop_back();
  if (!st.ok()) return st;
  return Value(std::move(out));
}

Value Interpreter::Lookup(const std::string& name) const {
  for (size_t i = scopes_.size(); i-- > 0;) {
    auto it = scopes_[i].vars.find(name);
    if (it != scopes_[i].vars.end()) return it->second;
    if (scopes_[i].barrier) break;
  }
  auto it = scopes_[0].vars.find(name);
  if (it != scopes_[0].vars.end()) return it->second;
  return Value::MakeUndefined("'" + name + "' is undefined");
}

}  // namespace pagellm::jinja

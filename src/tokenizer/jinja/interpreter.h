// Interpreter: renders a parsed template (AST) against a root scope, with jinja2's scoping
// (for-loop bodies and macros get their own scopes; namespaces are the way out), Undefined
// semantics, and hard limits on work, nesting and output so hostile templates terminate.
// Thread-safety: one Interpreter per render; the AST it reads is shared read-only.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace pagellm::jinja {

struct RenderLimits {
  size_t max_output_bytes = 64u << 20;  // also caps any single string or list built
  int64_t max_steps = 10'000'000;       // expression evaluations + loop iterations
  int max_depth = 600;                  // nested evaluation (macro recursion, deep expressions)
};

class Interpreter {
 public:
  // Installs the global functions (range, namespace, raise_exception, ...).
  explicit Interpreter(const RenderLimits& limits);

  // Root variables: the context, which overrides globals of the same name.
  void SetRoot(const std::string& name, Value v) { scopes_[0].vars[name] = std::move(v); }
  Status Render(const Body& body, std::string* out);

  // Services for filters, tests and builtins.
  StatusOr<Value> Call(const Value& fn, CallArgs& args);
  StatusOr<Value> ApplyFilter(const std::string& name, const Value& v, CallArgs& args);
  StatusOr<bool> ApplyTest(const std::string& name, const Value& v, CallArgs& args);
  // jinja2 `obj.name`: attribute (method) first, then item.
  StatusOr<Value> GetAttr(const Value& obj, const std::string& name);
  // jinja2 `obj[key]`: item first, then attribute.
  StatusOr<Value> GetItem(const Value& obj, const Value& key);
  // Fails when a built string or list would exceed the output limit.
  Status CheckSize(size_t bytes) const;
  Status Step();
  const RenderLimits& limits() const { return limits_; }

 private:
  struct Scope {
    std::unordered_map<std::string, Value> vars;
    bool barrier = false;  // macro scope: lookups skip to the root after it
  };
  enum class Flow { kNormal, kBreak, kContinue };

  Status Exec(const Body& body, std::string* out);
  Status ExecNode(const Node& node, std::string* out);
  Status ExecIf(const Node& node, std::string* out);
  Status ExecFor(const Node& node, std::string* out);
  Status ExecSet(const Node& node, std::string* out);
  Status ExecMacro(const Node& node);
  Status ExecCallBlock(const Node& node, std::string* out);
  Status ExecFilterBlock(const Node& node, std::string* out);
  Status ExecWith(const Node& node, std::string* out);
  Status Assign(const Target& target, const Value& v, int line);
  Status Append(std::string* out, std::string_view s);
  StatusOr<Value> CallMacro(const Node& macro, CallArgs& args, const Value* caller);
  static void UpdateLoop(const std::vector<Value>& items, size_t i, Dict* loop);

  StatusOr<Value> Eval(const Expr& e);
  StatusOr<Value> EvalInner(const Expr& e);
  StatusOr<Value> EvalCompare(const Expr& e);
  StatusOr<Value> EvalSlice(const Expr& e);
  StatusOr<Value> EvalLiteral(const Expr& e);
  Status EvalCallArgs(const Expr& e, CallArgs* args);
  Value Lookup(const std::string& name) const;

  Status LineError(int line, const Status& s) const;

  RenderLimits limits_;
  std::vector<Scope> scopes_;
  Flow flow_ = Flow::kNormal;
  int loop_depth_ = 0;
  int depth_ = 0;
  int64_t steps_ = 0;
};

// Python-semantics operators shared by the evaluator and filters (binary ops: + - * / // % **
// ~; comparisons for sorting). Errors are Python's TypeError/ZeroDivisionError messages.
StatusOr<Value> BinaryOp(const std::string& op, const Value& a, const Value& b, size_t max_bytes);
StatusOr<int> CompareValues(const Value& a, const Value& b);  // -1, 0, 1
StatusOr<bool> Contains(const Value& container, const Value& item);
// Python iteration: list items, dict keys, string characters; undefined iterates as empty.
StatusOr<std::vector<Value>> Iterate(const Value& v);
// Python len(); undefined has length 0.
StatusOr<int64_t> Length(const Value& v);

// Attribute access for built-in types (dict/str/list methods). Returns an undefined Value when
// there is no such method. Defined in methods.cc.
Value GetMethod(const Value& obj, const std::string& name);
// Global functions (range, dict, namespace, raise_exception, strftime_now, ...). builtins.cc.
void InstallGlobals(Interpreter* interp);
// Filters and tests tables. filters*.cc / predicates.cc.
StatusOr<Value> CallFilter(Interpreter& in, const std::string& name, const Value& v,
                           CallArgs& args);
StatusOr<bool> CallTest(Interpreter& in, const std::string& name, const Value& v, CallArgs& args);
bool HasTest(const std::string& name);
bool HasFilter(const std::string& name);

// Binds call arguments by position or keyword (Python semantics, minus strictness).
const Value* FindArg(const CallArgs& args, size_t pos, const char* name);
Value ArgOr(const CallArgs& args, size_t pos, const char* name, Value fallback);
// An integer argument (bool/int), `fallback` when absent; TypeError otherwise.
StatusOr<int64_t> IntArg(const CallArgs& args, size_t pos, const char* name, int64_t fallback);

// An error that comes from raise_exception(): reported with its message verbatim.
Status TemplateRaised(std::string message);
bool IsTemplateRaised(const Status& s);

}  // namespace pagellm::jinja

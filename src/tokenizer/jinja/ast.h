// AST of a parsed template: expressions (Expr) and statements (Node). Plain structs owned by
// unique_ptr trees; immutable after parsing, so one parsed template can render concurrently.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace pagellm::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kConst,    // value
    kName,     // name
    kGetattr,  // args[0].name
    kGetitem,  // args[0][args[1]]
    kSlice,    // args[0][args[1]:args[2]:args[3]] (null children for omitted parts)
    kCall,     // args[0](call_args...)
    kFilter,   // args[0] | name(call_args...)
    kTest,     // args[0] is name(call_args...); negated when `negate`
    kNeg,      // -args[0]
    kPos,      // +args[0]
    kNot,      // not args[0]
    kBinary,   // args[0] op args[1]; op in + - * / // % ** ~
    kAnd,
    kOr,
    kCompare,   // args[0] ops[0] args[1] ops[1] args[2] ... (chained)
    kCondExpr,  // args[1] if args[0] else args[2] (args[2] may be null)
    kList,
    kTuple,
    kDict,  // args = k0, v0, k1, v1, ...
  };
  Kind kind = Kind::kConst;
  int line = 0;
  Value value;
  std::string name;              // name / attribute / filter / test / binary op
  std::vector<ExprPtr> args;     // operands, children or positional call args
  std::vector<std::string> ops;  // kCompare operators: == != < <= > >= in notin
  // Call arguments (kCall, kFilter, kTest): positional ones follow the operand(s) in `args`
  // starting at `first_call_arg`.
  size_t first_call_arg = 0;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr star_args;    // *args
  ExprPtr star_kwargs;  // **kwargs
  bool negate = false;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

// An assignment target: a name, a tuple of names, or namespace attribute `ns.attr`.
struct Target {
  std::vector<std::string> names;  // one name, or several for tuple unpacking
  bool is_tuple = false;
  std::string attr;  // non-empty: names[0].attr (namespace assignment)
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Node {
  enum class Kind {
    kText,         // text
    kOutput,       // {{ expr }}
    kIf,           // conds[i] -> bodies[i]; else_body
    kFor,          // for target in expr [if filter] body else else_body
    kSet,          // target = expr
    kSetBlock,     // {% set target %}body{% endset %}, optional filter chain in expr
    kMacro,        // name(params) body
    kCallBlock,    // {% call(params) expr %}body{% endcall %}
    kFilterBlock,  // {% filter f %}body{% endfilter %}: expr is the filter applied to a
                   // placeholder name
    kWith,         // {% with a = 1 %}body{% endwith %}: targets + values
    kScope,        // body rendered in place (e.g. {% generation %})
    kBreak,
    kContinue,
  };
  Kind kind = Kind::kText;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;  // kFor: loop filter
  Target target;
  std::vector<ExprPtr> conds;
  std::vector<Body> bodies;
  Body body;
  Body else_body;
  std::string name;
  std::vector<MacroParam> params;
  std::vector<std::pair<std::string, ExprPtr>> assigns;  // kWith
};

}  // namespace pagellm::jinja

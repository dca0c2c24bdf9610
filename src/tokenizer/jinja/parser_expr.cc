// Expression grammar (lowest precedence first), as in jinja2:
//   condexpr: or ['if' or ['else' condexpr]]
//   or / and / not / compare (== != < <= > >= in, not in; chained)
//   math1 (+ -) / concat (~) / math2 (* / // %) / pow (**)
//   unary (- +) then postfix (. [] ()) then filters (| name) and tests (is name)
#include <cstdlib>

#include "tokenizer/jinja/parser.h"

namespace pagellm::jinja {
namespace {

struct DepthGuard {
  int* depth;
  ~DepthGuard() { --*depth; }
};

bool IsCompareOp(const Token& t) {
  if (t.type != TokenType::kOp) return false;
  return t.value == "==" || t.value == "!=" || t.value == "<" || t.value == "<=" ||
         t.value == ">" || t.value == ">=";
}

}  // namespace

const Token& Parser::Peek(size_t n) const {
  size_t i = pos_ + n;
  return i < toks_.size() ? toks_[i] : toks_.back();
}

Status Parser::Error(const std::string& msg) const {
  const Token& t = Cur();
  return InvalidArgumentError("template syntax error at line " + std::to_string(t.line) +
                              ", column " + std::to_string(t.col) + ": " + msg);
}

Status Parser::Expect(TokenType type, const char* value, const char* what) {
  if (Cur().type != type || (value != nullptr && Cur().value != value)) {
    std::string got = Cur().type == TokenType::kEof ? "end of template" : "'" + Cur().value + "'";
    if (Cur().type == TokenType::kBlockEnd) got = "end of statement block";
    if (Cur().type == TokenType::kVarEnd) got = "end of print statement";
    return Error(std::string("expected ") + what + ", got " + got);
  }
  Next();
  return OkStatus();
}

Status Parser::EnterDepth() {
  if (++depth_ > kMaxDepth) return Error("expression nested too deeply");
  return OkStatus();
}

ExprPtr Parser::MakeExpr(Expr::Kind kind) const {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = Cur().line;
  return e;
}

StatusOr<ExprPtr> Parser::ParseExpression(bool with_condexpr) {
  RETURN_IF_ERROR(EnterDepth());
  DepthGuard guard{&depth_};
  ASSIGN_OR_RETURN(ExprPtr node, ParseOr());
  if (!with_condexpr) return node;
  for (int chain = 0; IsName("if");) {
    if (++chain > kMaxDepth) return Error("expression too long");
    Next();
    auto cond = MakeExpr(Expr::Kind::kCondExpr);
    ASSIGN_OR_RETURN(ExprPtr test, ParseOr());
    ExprPtr else_expr;
    if (IsName("else")) {
      Next();
      ASSIGN_OR_RETURN(else_expr, ParseExpression(true));
    }
    cond->args.push_back(std::move(test));
    cond->args.push_back(std::move(node));
    cond->args.push_back(std::move(else_expr));
    node = std::move(cond);
  }
  return node;
}

// A comma-separated list becomes a tuple; a single expression stays itself.
StatusOr<ExprPtr> Parser::ParseTuple(bool with_condexpr, bool explicit_parens) {
  auto tuple = MakeExpr(Expr::Kind::kTuple);
  bool saw_comma = false;
  while (true) {
    if (!tuple->args.empty()) {
      if (!IsOp(",")) break;
      Next();
      saw_comma = true;
    }
    const Token& t = Cur();
    bool at_end = t.type == TokenType::kVarEnd || t.type == TokenType::kBlockEnd ||
                  t.type == TokenType::kEof || (t.type == TokenType::kOp && t.value == ")") ||
                  (t.type == TokenType::kName && (t.value == "in" || t.value == "recursive" ||
                                                  (t.value == "if" && !with_condexpr)));
    if (at_end && (!tuple->args.empty() || explicit_parens)) break;
    ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(with_condexpr));
    tuple->args.push_back(std::move(e));
  }
  if (!saw_comma && tuple->args.size() == 1) return std::move(tuple->args[0]);
  if (tuple->args.empty() && !explicit_parens) return Error("expected an expression");
  return tuple;
}

StatusOr<ExprPtr> Parser::ParseOr() {
  ASSIGN_OR_RETURN(ExprPtr left, ParseAnd());
  for (int chain = 0; IsName("or");) {
    if (++chain > kMaxDepth) return Error("expression too long");
    Next();
    auto e = MakeExpr(Expr::Kind::kOr);
    ASSIGN_OR_RETURN(ExprPtr right, ParseAnd());
    e->args.push_back(std::move(left));
    e->args.push_back(std::move(right));
    left = std::move(e);
  }
  return left;
}

StatusOr<ExprPtr> Parser::ParseAnd() {
  ASSIGN_OR_RETURN(ExprPtr left, ParseNot());
  for (int chain = 0; IsName("and");) {
    if (++chain > kMaxDepth) return Error("expression too long");
    Next();
    auto e = MakeExpr(Expr::Kind::kAnd);
    ASSIGN_OR_RETURN(ExprPtr right, ParseNot());
    e->args.push_back(std::move(left));
    e->args.push_back(std::move(right));
    left = std::move(e);
  }
  return left;
}

StatusOr<ExprPtr> Parser::ParseNot() {
  if (IsName("not")) {
    RETURN_IF_ERROR(EnterDepth());
    DepthGuard guard{&depth_};
    auto e = MakeExpr(Expr::Kind::kNot);
    Next();
    ASSIGN_OR_RETURN(ExprPtr operand, ParseNot());
    e->args.push_back(std::move(operand));
    return e;
  }
  return ParseCompare();
}

StatusOr<ExprPtr> Parser::ParseCompare() {
  ASSIGN_OR_RETURN(ExprPtr first, ParseMath1());
  ExprPtr cmp;
  while (true) {
    std::string op;
    if (IsCompareOp(Cur())) {
      op = Cur().value;
      Next();
    } else if (IsName("in")) {
      op = "in";
      Next();
    } else if (IsName("not") && Peek().type == TokenType::kName && Peek().value == "in") {
      op = "notin";
      Next();
      Next();
    } else {
      break;
    }
    if (!cmp) {
      cmp = MakeExpr(Expr::Kind::kCompare);
      cmp->args.push_back(std::move(first));
    }
    ASSIGN_OR_RETURN(ExprPtr operand, ParseMath1());
    cmp->ops.push_back(op);
    cmp->args.push_back(std::move(operand));
  }
  return cmp ? std::move(cmp) : std::move(first);
}

#define PAGELLM_JINJA_BINARY_LEVEL(Func, Operand, Cond)             \
  StatusOr<ExprPtr> Parser::Func() {                                \
    ASSIGN_OR_RETURN(ExprPtr left, Operand);                        \
    for (int chain = 0; Cur().type == TokenType::kOp && (Cond);) {  \
      if (++chain > kMaxDepth) return Error("expression too long"); \
      auto e = MakeExpr(Expr::Kind::kBinary);                       \
      e->name = Cur().value;                                        \
      Next();                                                       \
      ASSIGN_OR_RETURN(ExprPtr right, Operand);                     \
      e->args.push_back(std::move(left));                           \
      e->args.push_back(std::move(right));                          \
      left = std::move(e);                                          \
    }                                                               \
    return left;                                                    \
  }

PAGELLM_JINJA_BINARY_LEVEL(ParseMath1, ParseConcat(), Cur().value == "+" || Cur().value == "-")
PAGELLM_JINJA_BINARY_LEVEL(ParseConcat, ParseMath2(), Cur().value == "~")
PAGELLM_JINJA_BINARY_LEVEL(ParseMath2, ParsePow(),
                           Cur().value == "*" || Cur().value == "/" || Cur().value == "//" ||
                               Cur().value == "%")
PAGELLM_JINJA_BINARY_LEVEL(ParsePow, ParseUnary(true), Cur().value == "**")
#undef PAGELLM_JINJA_BINARY_LEVEL

StatusOr<ExprPtr> Parser::ParseUnary(bool with_filter) {
  RETURN_IF_ERROR(EnterDepth());
  DepthGuard guard{&depth_};
  ExprPtr node;
  if (IsOp("-") || IsOp("+")) {
    node = MakeExpr(IsOp("-") ? Expr::Kind::kNeg : Expr::Kind::kPos);
    Next();
    ASSIGN_OR_RETURN(ExprPtr operand, ParseUnary(false));
    node->args.push_back(std::move(operand));
  } else {
    ASSIGN_OR_RETURN(node, ParsePrimary());
  }
  ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
  if (with_filter) return ParseFilterExpr(std::move(node));
  return node;
}

StatusOr<ExprPtr> Parser::ParsePrimary() {
  const Token& t = Cur();
  auto e = MakeExpr(Expr::Kind::kConst);
  switch (t.type) {
    case TokenType::kName: {
      const std::string& n = t.value;
      if (n == "true" || n == "True")
        e->value = Value(true);
      else if (n == "false" || n == "False")
        e->value = Value(false);
      else if (n == "none" || n == "None")
        e->value = Value::None();
      else {
        e->kind = Expr::Kind::kName;
        e->name = n;
      }
      Next();
      return e;
    }
    case TokenType::kString: {
      std::string s;
      while (Cur().type == TokenType::kString) {  // adjacent literals concatenate
        s += Cur().value;
        Next();
      }
      e->value = Value(std::move(s));
      return e;
    }
    case TokenType::kInt: {
      errno = 0;
      long long v = std::strtoll(t.value.c_str(), nullptr, 10);
      if (errno == ERANGE) return Error("integer literal too large");
      e->value = Value(static_cast<int64_t>(v));
      Next();
      return e;
    }
    case TokenType::kFloat:
      e->value = Value(std::strtod(t.value.c_str(), nullptr));
      Next();
      return e;
    case TokenType::kOp:
      if (t.value == "(") {
        Next();
        ASSIGN_OR_RETURN(ExprPtr inner, ParseTuple(true, /*explicit_parens=*/true));
        RETURN_IF_ERROR(Expect(TokenType::kOp, ")", "')'"));
        return inner;
      }
      if (t.value == "[" || t.value == "{") return ParseListOrDict(t.value == "{");
      break;
    default:
      break;
  }
  std::string got = t.type == TokenType::kEof ? "end of template" : "'" + t.value + "'";
  if (t.type == TokenType::kBlockEnd || t.type == TokenType::kVarEnd) got = "end of tag";
  return Error("unexpected " + got);
}

StatusOr<ExprPtr> Parser::ParseListOrDict(bool is_dict) {
  auto e = MakeExpr(is_dict ? Expr::Kind::kDict : Expr::Kind::kList);
  const char* close = is_dict ? "}" : "]";
  Next();
  while (!IsOp(close)) {
    if (!e->args.empty()) {
      RETURN_IF_ERROR(Expect(TokenType::kOp, ",", "','"));
      if (IsOp(close)) break;
    }
    ASSIGN_OR_RETURN(ExprPtr item, ParseExpression());
    e->args.push_back(std::move(item));
    if (is_dict) {
      RETURN_IF_ERROR(Expect(TokenType::kOp, ":", "':'"));
      ASSIGN_OR_RETURN(ExprPtr v, ParseExpression());
      e->args.push_back(std::move(v));
    }
  }
  Next();
  return e;
}

}  // namespace pagellm::jinja

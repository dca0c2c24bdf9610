// Postfix expressions: attribute/item access, slices, calls and their arguments, filters
// (`| name(args)`) and tests (`is [not] name args`).
#include <cstdlib>

#include "tokenizer/jinja/parser.h"

namespace pagellm::jinja {

StatusOr<ExprPtr> Parser::ParsePostfix(ExprPtr node) {
  for (int chain = 0;; ++chain) {
    // Each step nests the tree one level deeper; bound it like recursion.
    if (chain > kMaxDepth) return Error("expression too long");
    if (IsOp(".")) {
      Next();
      if (Cur().type == TokenType::kName) {
        auto e = MakeExpr(Expr::Kind::kGetattr);
        e->name = Cur().value;
        e->args.push_back(std::move(node));
        node = std::move(e);
      } else if (Cur().type == TokenType::kInt) {
        auto e = MakeExpr(Expr::Kind::kGetitem);
        e->args.push_back(std::move(node));
        auto idx = MakeExpr(Expr::Kind::kConst);
        idx->value = Value(static_cast<int64_t>(std::strtoll(Cur().value.c_str(), nullptr, 10)));
        e->args.push_back(std::move(idx));
        node = std::move(e);
      } else {
        return Error("expected name or number after '.'");
      }
      Next();
    } else if (IsOp("[")) {
      ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node)));
    } else if (IsOp("(")) {
      ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
    } else {
      return node;
    }
  }
}

// `node(args...)`: the callee is args[0]; the call's own arguments follow.
StatusOr<ExprPtr> Parser::ParseCall(ExprPtr node) {
  auto e = MakeExpr(Expr::Kind::kCall);
  e->args.push_back(std::move(node));
  e->first_call_arg = 1;
  RETURN_IF_ERROR(ParseCallArgs(e.get()));
  return ExprPtr(std::move(e));
}

StatusOr<ExprPtr> Parser::ParseSubscript(ExprPtr node) {
  Next();  // [
  ExprPtr parts[3];
  int colons = 0;
  while (!IsOp("]")) {
    if (IsOp(":")) {
      if (++colons > 2) return Error("too many ':' in subscript");
      Next();
      continue;
    }
    if (parts[colons]) return Error("expected ']'");
    ASSIGN_OR_RETURN(parts[colons], ParseExpression());
  }
  Next();
  if (colons == 0) {
    if (!parts[0]) return Error("expected subscript expression");
    auto e = MakeExpr(Expr::Kind::kGetitem);
    e->args.push_back(std::move(node));
    e->args.push_back(std::move(parts[0]));
    return e;
  }
  auto e = MakeExpr(Expr::Kind::kSlice);
  e->args.push_back(std::move(node));
  for (auto& p : parts) e->args.push_back(std::move(p));
  return e;
}

Status Parser::ParseCallArgs(Expr* call) {
  RETURN_IF_ERROR(Expect(TokenType::kOp, "(", "'('"));
  bool first = true;
  while (!IsOp(")")) {
    if (!first) {
      RETURN_IF_ERROR(Expect(TokenType::kOp, ",", "','"));
      if (IsOp(")")) break;
    }
    first = false;
    if (IsOp("*") || IsOp("**")) {
      bool kw = IsOp("**");
      Next();
      ASSIGN_OR_RETURN(ExprPtr e, ParseExpression());
      (kw ? call->star_kwargs : call->star_args) = std::move(e);
    } else if (Cur().type == TokenType::kName && Peek().type == TokenType::kOp &&
               Peek().value == "=") {
      std::string key = Cur().value;
      Next();
      Next();
      ASSIGN_OR_RETURN(ExprPtr e, ParseExpression());
      call->kwargs.emplace_back(std::move(key), std::move(e));
    } else {
      if (!call->kwargs.empty()) return Error("positional argument follows keyword argument");
      ASSIGN_OR_RETURN(ExprPtr e, ParseExpression());
      call->args.push_back(std::move(e));
    }
  }
  Next();
  return OkStatus();
}

StatusOr<ExprPtr> Parser::ParseFilterExpr(ExprPtr node) {
  for (int chain = 0;; ++chain) {
    if (chain > kMaxDepth) return Error("expression too long");
    if (IsOp("|")) {
      ASSIGN_OR_RETURN(node, ParseFilter(std::move(node)));
    } else if (IsName("is")) {
      ASSIGN_OR_RETURN(node, ParseTest(std::move(node)));
    } else if (IsOp("(")) {
      ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
    } else {
      return node;
    }
  }
}

StatusOr<ExprPtr> Parser::ParseFilter(ExprPtr node) {
  Next();  // |
  if (Cur().type != TokenType::kName) return Error("expected filter name");
  auto e = MakeExpr(Expr::Kind::kFilter);
  e->name = Cur().value;
  Next();
  while (IsOp(".") && Peek().type == TokenType::kName) {
    e->name += "." + Peek().value;
    Next();
    Next();
  }
  e->args.push_back(std::move(node));
  e->first_call_arg = 1;
  if (IsOp("(")) RETURN_IF_ERROR(ParseCallArgs(e.get()));
  return e;
}

StatusOr<ExprPtr> Parser::ParseTest(ExprPtr node) {
  Next();  // is
  auto e = MakeExpr(Expr::Kind::kTest);
  if (IsName("not")) {
    e->negate = true;
    Next();
  }
  if (Cur().type != TokenType::kName) return Error("expected test name");
  e->name = Cur().value;
  Next();
  e->args.push_back(std::move(node));
  e->first_call_arg = 1;
  const Token& t = Cur();
  if (IsOp("(")) {
    RETURN_IF_ERROR(ParseCallArgs(e.get()));
  } else if (t.type == TokenType::kString || t.type == TokenType::kInt ||
             t.type == TokenType::kFloat || IsOp("[") || IsOp("{") ||
             (t.type == TokenType::kName && t.value != "else" && t.value != "or" &&
              t.value != "and")) {
    if (IsName("is")) return Error("You cannot chain multiple tests with is");
    ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
    ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
    e->args.push_back(std::move(arg));
  }
  return e;
}

}  // namespace pagellm::jinja

#include "tokenizer/jinja/parser.h"

#include <algorithm>

namespace pagellm::jinja {
namespace {

struct BlockDepthGuard {
  int* depth;
  ~BlockDepthGuard() { --*depth; }
};

}  // namespace

StatusOr<Body> ParseTemplate(const std::vector<Token>& tokens) {
  Parser parser(tokens);
  return parser.ParseAll();
}

StatusOr<Body> Parser::ParseAll() {
  ASSIGN_OR_RETURN(Body body, ParseBody({}));
  if (Cur().type != TokenType::kEof) return Error("unexpected '" + Cur().value + "'");
  return body;
}

StatusOr<Body> Parser::ParseBody(const std::vector<std::string>& ends) {
  if (++block_depth_ > kMaxDepth) return Error("blocks nested too deeply");
  BlockDepthGuard guard{&block_depth_};
  Body body;
  while (true) {
    const Token& t = Cur();
    if (t.type == TokenType::kEof) {
      if (ends.empty()) return body;
      return Error("unexpected end of template, expected '" + ends[0] + "'");
    }
    if (t.type == TokenType::kData) {
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::kText;
      n->line = t.line;
      n->text = t.value;
      body.push_back(std::move(n));
      Next();
    } else if (t.type == TokenType::kVarBegin) {
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::kOutput;
      n->line = t.line;
      Next();
      ASSIGN_OR_RETURN(n->expr, ParseTuple(true));
      RETURN_IF_ERROR(Expect(TokenType::kVarEnd, nullptr, "end of print statement"));
      body.push_back(std::move(n));
    } else if (t.type == TokenType::kBlockBegin) {
      const Token& kw = Peek();
      if (kw.type == TokenType::kName &&
          std::find(ends.begin(), ends.end(), kw.value) != ends.end()) {
        Next();  // leave pos_ at the keyword
        return body;
      }
      Next();
      ASSIGN_OR_RETURN(NodePtr n, ParseStatement());
      body.push_back(std::move(n));
    } else {
      return Error("unexpected '" + t.value + "'");
    }
  }
}

StatusOr<NodePtr> Parser::ParseStatement() {
  if (Cur().type != TokenType::kName) return Error("expected statement name");
  const std::string kw = Cur().value;
  if (kw == "if") return ParseIf();
  if (kw == "for") return ParseFor();
  if (kw == "set") return ParseSet();
  if (kw == "macro") return ParseMacro();
  if (kw == "call") return ParseCallBlock();
  if (kw == "filter") return ParseFilterBlock();
  if (kw == "with") return ParseWith();
  if (kw == "generation") return ParseSimpleBlock(Node::Kind::kScope, "endgeneration");
  if (kw == "break" || kw == "continue") {
    auto n = std::make_unique<Node>();
    n->kind = kw == "break" ? Node::Kind::kBreak : Node::Kind::kContinue;
    n->line = Cur().line;
    Next();
    RETURN_IF_ERROR(ExpectBlockEnd());
    return n;
  }
  return Error("unknown or unsupported tag '" + kw + "'");
}

Status Parser::ExpectBlockEnd() {
  return Expect(TokenType::kBlockEnd, nullptr, "end of statement block");
}

// pos_ is at the end keyword (ParseBody stopped there): consume it and the block end.
Status Parser::ExpectEndTag(const std::string& name) {
  if (!IsName(name.c_str())) return Error("expected '" + name + "'");
  Next();
  return ExpectBlockEnd();
}

StatusOr<NodePtr> Parser::ParseIf() {
  auto n = std::make_unique<Node>();
  n->kind = Node::Kind::kIf;
  n->line = Cur().line;
  Next();  // if / elif
  while (true) {
    ASSIGN_OR_RETURN(ExprPtr cond, ParseTuple(true));
    RETURN_IF_ERROR(ExpectBlockEnd());
    ASSIGN_OR_RETURN(Body body, ParseBody({"elif", "else", "endif"}));
    n->conds.push_back(std::move(cond));
    n->bodies.push_back(std::move(body));
    if (IsName("elif")) {
      Next();
      continue;
    }
    if (IsName("else")) {
      Next();
      RETURN_IF_ERROR(ExpectBlockEnd());
      ASSIGN_OR_RETURN(n->else_body, ParseBody({"endif"}));
    }
    RETURN_IF_ERROR(ExpectEndTag("endif"));
    return n;
  }
}

StatusOr<Target> Parser::ParseTarget(bool allow_attr) {
  Target t;
  while (true) {
    if (Cur().type != TokenType::kName) return Error("expected assignment target name");
    t.names.push_back(Cur().value);
    Next();
    if (allow_attr && t.names.size() == 1 && IsOp(".")) {
      Next();
      if (Cur().type != TokenType::kName) return Error("expected attribute name");
      t.attr = Cur().value;
      Next();
      return t;
    }
    if (!IsOp(",")) break;
    t.is_tuple = true;
    Next();
    if (Cur().type != TokenType::kName) break;  // trailing comma
  }
  return t;
}

StatusOr<NodePtr> Parser::ParseFor() {
  auto n = std::make_unique<Node>();
  n->kind = Node::Kind::kFor;
  n->line = Cur().line;
  Next();
  bool parens = IsOp("(");
  if (parens) Next();
  ASSIGN_OR_RETURN(n->target, ParseTarget(false));
  if (parens) RETURN_IF_ERROR(Expect(TokenType::kOp, ")", "')'"));
  RETURN_IF_ERROR(Expect(TokenType::kName, "in", "'in'"));
  ASSIGN_OR_RETURN(n->expr, ParseTuple(false));
  if (IsName("if")) {
    Next();
    ASSIGN_OR_RETURN(n->filter, ParseExpression());
  }
  if (IsName("recursive")) return Error("recursive for loops are not supported");
  RETURN_IF_ERROR(ExpectBlockEnd());
  ASSIGN_OR_RETURN(n->body, ParseBody({"endfor", "else"}));
  if (IsName("else")) {
    Next();
    RETURN_IF_ERROR(ExpectBlockEnd());
    ASSIGN_OR_RETURN(n->else_body, ParseBody({"endfor"}));
  }
  RETURN_IF_ERROR(ExpectEndTag("endfor"));
  return n;
}

StatusOr<NodePtr> Parser::ParseSet() {
  auto n = std::make_unique<Node>();
  n->line = Cur().line;
  Next();
  ASSIGN_OR_RETURN(n->target, ParseTarget(true));
  if (IsOp("=")) {
    n->kind = Node::Kind::kSet;
    Next();
    ASSIGN_OR_RETURN(n->expr, ParseTuple(true));
    RETURN_IF_ERROR(ExpectBlockEnd());
    return n;
  }
  if (n->target.is_tuple || !n->target.attr.empty()) {
    return Error("block set needs a single name");
  }
  n->kind = Node::Kind::kSetBlock;
  if (IsOp("|")) {
    auto placeholder = MakeExpr(Expr::Kind::kName);
    placeholder->name = "(captured)";
    ASSIGN_OR_RETURN(n->expr, ParseFilterExpr(std::move(placeholder)));
  }
  RETURN_IF_ERROR(ExpectBlockEnd());
  ASSIGN_OR_RETURN(n->body, ParseBody({"endset"}));
  RETURN_IF_ERROR(ExpectEndTag("endset"));
  return n;
}

Status Parser::ParseParams(std::vector<MacroParam>* params) {
  RETURN_IF_ERROR(Expect(TokenType::kOp, "(", "'('"));
  while (!IsOp(")")) {
    if (!params->empty()) RETURN_IF_ERROR(Expect(TokenType::kOp, ",", "','"));
    if (Cur().type != TokenType::kName) return Error("expected parameter name");
    MacroParam p;
    p.name = Cur().value;
    Next();
    if (IsOp("=")) {
      Next();
      ASSIGN_OR_RETURN(p.default_value, ParseExpression());
    } else if (!params->empty() && params->back().default_value) {
      return Error("non-default argument follows default argument");
    }
    params->push_back(std::move(p));
  }
  Next();
  return OkStatus();
}

StatusOr<NodePtr> Parser::ParseMacro() {
  auto n = std::make_unique<Node>();
  n->kind = Node::Kind::kMacro;
  n->line = Cur().line;
  Next();
  if (Cur().type != TokenType::kName) return Error("expected macro name");
  n->name = Cur().value;
  Next();
  RETURN_IF_ERROR(ParseParams(&n->params));
  RETURN_IF_ERROR(ExpectBlockEnd());
  ASSIGN_OR_RETURN(n->body, ParseBody({"endmacro"}));
  RETURN_IF_ERROR(ExpectEndTag("endmacro"));
  return n;
}

StatusOr<NodePtr> Parser::ParseCallBlock() {
  auto n = std::make_unique<Node>();
  n->kind = Node::Kind::kCallBlock;
  n->line = Cur().line;
  Next();
  if (IsOp("(")) RETURN_IF_ERROR(ParseParams(&n->params));
  ASSIGN_OR_RETURN(n->expr, ParseExpression());
  if (n->expr->kind != Expr::Kind::kCall) return Error("expected call");
  RETURN_IF_ERROR(ExpectBlockEnd());
  ASSIGN_OR_RETURN(n->body, ParseBody({"endcall"}));
  RETURN_IF_ERROR(ExpectEndTag("endcall"));
  return n;
}

StatusOr<NodePtr> Parser::ParseFilterBlock() {
  auto n = std::make_unique<Node>();
  n->kind = Node::Kind::kFilterBlock;
  n->line = Cur().line;
  // Reuse the filter-expression parser on a placeholder operand: `{% filter upper %}` reads
  // like `placeholder | upper`, pos_ is at `filter` which plays the role of the pipe.
  auto placeholder = MakeExpr(Expr::Kind::kName);
  placeholder->name = "(captured)";
  ASSIGN_OR_RETURN(n->expr, ParseFilter(std::move(placeholder)));
  ASSIGN_OR_RETURN(n->expr, ParseFilterExpr(std::move(n->expr)));
  RETURN_IF_ERROR(ExpectBlockEnd());
  ASSIGN_OR_RETURN(n->body, ParseBody({"endfilter"}));
  RETURN_IF_ERROR(ExpectEndTag("endfilter"));
  return n;
}

StatusOr<NodePtr> Parser::ParseWith() {
  auto n = std::make_unique<Node>();
  n->kind = Node::Kind::kWith;
  n->line = Cur().line;
  Next();
  while (Cur().type != TokenType::kBlockEnd) {
    if (!n->assigns.empty()) RETURN_IF_ERROR(Expect(TokenType::kOp, ",", "','"));
    if (Cur().type != TokenType::kName) return Error("expected name");
    std::string name = Cur().value;
    Next();
    RETURN_IF_ERROR(Expect(TokenType::kOp, "=", "'='"));
    ASSIGN_OR_RETURN(ExprPtr e, ParseExpression());
    n->assigns.emplace_back(std::move(name), std::move(e));
  }
  Next();
  ASSIGN_OR_RETURN(n->body, ParseBody({"endwith"}));
  RETURN_IF_ERROR(ExpectEndTag("endwith"));
  return n;
}

StatusOr<NodePtr> Parser::ParseSimpleBlock(Node::Kind kind, const std::string& end) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->line = Cur().line;
  Next();
  RETURN_IF_ERROR(ExpectBlockEnd());
  ASSIGN_OR_RETURN(n->body, ParseBody({end}));
  RETURN_IF_ERROR(ExpectEndTag(end));
  return n;
}

}  // namespace pagellm::jinja

// Parser: tokens -> AST, following jinja2's grammar and operator precedence. Nesting depth is
// bounded so hostile templates fail with a Status instead of overflowing the stack.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"

namespace pagellm::jinja {

StatusOr<Body> ParseTemplate(const std::vector<Token>& tokens);

// Implementation detail shared by parser.cc (statements) and parser_expr.cc (expressions).
class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : toks_(tokens) {}
  StatusOr<Body> ParseAll();

 private:
  static constexpr int kMaxDepth = 200;

  // Statements.
  // Parses nodes until a block tag whose keyword is in `ends`; leaves pos_ at that keyword.
  StatusOr<Body> ParseBody(const std::vector<std::string>& ends);
  StatusOr<NodePtr> ParseStatement();
  StatusOr<NodePtr> ParseIf();
  StatusOr<NodePtr> ParseFor();
  StatusOr<NodePtr> ParseSet();
  StatusOr<NodePtr> ParseMacro();
  StatusOr<NodePtr> ParseCallBlock();
  StatusOr<NodePtr> ParseFilterBlock();
  StatusOr<NodePtr> ParseWith();
  StatusOr<NodePtr> ParseSimpleBlock(Node::Kind kind, const std::string& end);
  StatusOr<Target> ParseTarget(bool allow_attr);
  Status ParseParams(std::vector<MacroParam>* params);
  Status ExpectBlockEnd();
  Status ExpectEndTag(const std::string& name);

  // Expressions.
  StatusOr<ExprPtr> ParseExpression(bool with_condexpr = true);
  StatusOr<ExprPtr> ParseTuple(bool with_condexpr, bool explicit_parens = false);
  StatusOr<ExprPtr> ParseOr();
  StatusOr<ExprPtr> ParseAnd();
  StatusOr<ExprPtr> ParseNot();
  StatusOr<ExprPtr> ParseCompare();
  StatusOr<ExprPtr> ParseMath1();
  StatusOr<ExprPtr> ParseConcat();
  StatusOr<ExprPtr> ParseMath2();
  StatusOr<ExprPtr> ParsePow();
  StatusOr<ExprPtr> ParseUnary(bool with_filter);
  StatusOr<ExprPtr> ParsePrimary();
  StatusOr<ExprPtr> ParsePostfix(ExprPtr node);
  StatusOr<ExprPtr> ParseFilterExpr(ExprPtr node);
  StatusOr<ExprPtr> ParseSubscript(ExprPtr node);
  StatusOr<ExprPtr> ParseCall(ExprPtr node);
  StatusOr<ExprPtr> ParseFilter(ExprPtr node);
  StatusOr<ExprPtr> ParseTest(ExprPtr node);
  StatusOr<ExprPtr> ParseListOrDict(bool is_dict);
  Status ParseCallArgs(Expr* call);

  // Token helpers.
  const Token& Cur() const { return toks_[pos_]; }
  const Token& Peek(size_t n = 1) const;
  bool IsOp(const char* op) const { return Cur().type == TokenType::kOp && Cur().value == op; }
  bool IsName(const char* n) const { return Cur().type == TokenType::kName && Cur().value == n; }
  void Next() {
    if (toks_[pos_].type != TokenType::kEof) ++pos_;
  }
  Status Expect(TokenType type, const char* value, const char* what);
  Status Error(const std::string& msg) const;
  Status EnterDepth();
  ExprPtr MakeExpr(Expr::Kind kind) const;

  const std::vector<Token>& toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int block_depth_ = 0;
};

}  // namespace pagellm::jinja

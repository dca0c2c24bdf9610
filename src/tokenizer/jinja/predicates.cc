// Jinja tests (`x is defined`, `x is divisibleby 3`, ...).
#include <unordered_map>

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/strings.h"

namespace pagellm::jinja {
namespace {

using TestFn = StatusOr<bool> (*)(Interpreter&, const Value&, CallArgs&);

StatusOr<Value> Arg0(const CallArgs& a, const char* test) {
  const Value* v = FindArg(a, 0, "other");
  if (v == nullptr)
    return InvalidArgumentError(std::string("test '") + test + "' needs an argument");
  return *v;
}

StatusOr<bool> CompareTest(const Value& v, const CallArgs& a, const char* op) {
  ASSIGN_OR_RETURN(Value other, Arg0(a, op));
  std::string o(op);
  if (o == "==") return ValuesEqual(v, other);
  if (o == "!=") return !ValuesEqual(v, other);
  if (v.is_undefined() || other.is_undefined()) {
    return InvalidArgumentError((v.is_undefined() ? v : other).undefined_hint());
  }
  auto c = CompareValues(v, other);
  if (!c.ok()) {
    return InvalidArgumentError("'" + o + "' not supported between instances of '" + v.TypeName() +
                                "' and '" + other.TypeName() + "'");
  }
  if (o == "<") return *c < 0;
  if (o == "<=") return *c <= 0;
  if (o == ">") return *c > 0;
  return *c >= 0;
}

// Undefined iterates (as empty) in jinja2, so it counts as iterable and as a sequence.
bool IsIterable(const Value& v) {
  return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
}

StatusOr<bool> IntTest(const Value& v, int64_t mod, int64_t want) {
  if (!v.is_int() && !v.is_bool()) {
    return InvalidArgumentError("test needs an integer, got '" + v.TypeName() + "'");
  }
  int64_t r = v.as_int() % mod;
  if (r < 0) r += mod;
  return r == want;
}

#define PAGELLM_JINJA_TEST(expr) \
  [](Interpreter& in, const Value& v, CallArgs& a) -> StatusOr<bool> { return expr; }

const std::unordered_map<std::string, TestFn>& Table() {
  static const auto* table = new std::unordered_map<std::string, TestFn>{
      {"defined", PAGELLM_JINJA_TEST(!v.is_undefined())},
      {"undefined", PAGELLM_JINJA_TEST(v.is_undefined())},
      {"none", PAGELLM_JINJA_TEST(v.is_none())},
      {"boolean", PAGELLM_JINJA_TEST(v.is_bool())},
      {"true", PAGELLM_JINJA_TEST(v.is_bool() && v.as_bool())},
      {"false", PAGELLM_JINJA_TEST(v.is_bool() && !v.as_bool())},
      {"integer", PAGELLM_JINJA_TEST(v.is_int())},
      {"float", PAGELLM_JINJA_TEST(v.is_float())},
      {"number", PAGELLM_JINJA_TEST(v.is_number())},
      {"string", PAGELLM_JINJA_TEST(v.is_string())},
      {"mapping", PAGELLM_JINJA_TEST(v.is_dict())},
      {"iterable", PAGELLM_JINJA_TEST(IsIterable(v))},
      {"sequence", PAGELLM_JINJA_TEST(IsIterable(v))},
      {"callable", PAGELLM_JINJA_TEST(v.is_callable())},
      {"escaped", PAGELLM_JINJA_TEST(false)},
      {"lower", PAGELLM_JINJA_TEST(v.is_string() && StrLower(v.str()) == v.str())},
      {"upper", PAGELLM_JINJA_TEST(v.is_string() && StrUpper(v.str()) == v.str())},
      {"odd", PAGELLM_JINJA_TEST(IntTest(v, 2, 1))},
      {"even", PAGELLM_JINJA_TEST(IntTest(v, 2, 0))},
      {"divisibleby", [](Interpreter&, const Value& v, CallArgs& a) -> StatusOr<bool> {
         ASSIGN_OR_RETURN(Value n, Arg0(a, "divisibleby"));
         if (!n.is_number() || n.is_float() || n.as_int() == 0 || !v.is_number() || v.is_float()) {
           return InvalidArgumentError("divisibleby needs non-zero integers");
         }
         return n.as_int() == -1 || v.as_int() % n.as_int() == 0;
       }},
      {"eq", PAGELLM_JINJA_TEST(CompareTest(v, a, "=="))},
      {"equalto", PAGELLM_JINJA_TEST(CompareTest(v, a, "=="))},
      {"==", PAGELLM_JINJA_TEST(CompareTest(v, a, "=="))},
      {"ne", PAGELLM_JINJA_TEST(CompareTest(v, a, "!="))},
      {"!=", PAGELLM_JINJA_TEST(CompareTest(v, a, "!="))},
      {"lt", PAGELLM_JINJA_TEST(CompareTest(v, a, "<"))},
      {"lessthan", PAGELLM_JINJA_TEST(CompareTest(v, a, "<"))},
      {"<", PAGELLM_JINJA_TEST(CompareTest(v, a, "<"))},
      {"le", PAGELLM_JINJA_TEST(CompareTest(v, a, "<="))},
      {"<=", PAGELLM_JINJA_TEST(CompareTest(v, a, "<="))},
      {"gt", PAGELLM_JINJA_TEST(CompareTest(v, a, ">"))},
      {"greaterthan", PAGELLM_JINJA_TEST(CompareTest(v, a, ">"))},
      {">", PAGELLM_JINJA_TEST(CompareTest(v, a, ">"))},
      {"ge", PAGELLM_JINJA_TEST(CompareTest(v, a, ">="))},
      {">=", PAGELLM_JINJA_TEST(CompareTest(v, a, ">="))},
      {"in", [](Interpreter&, const Value& v, CallArgs& a) -> StatusOr<bool> {
         ASSIGN_OR_RETURN(Value seq, Arg0(a, "in"));
         return Contains(seq, v);
       }},
      {"sameas", [](Interpreter&, const Value& v, CallArgs& a) -> StatusOr<bool> {
         ASSIGN_OR_RETURN(Value o, Arg0(a, "sameas"));
         return v.kind() == o.kind() && ValuesEqual(v, o) &&
                (!v.is_list() || &v.list() == &o.list()) && (!v.is_dict() || &v.dict() == &o.dict());
       }},
  };
  return *table;
}

#undef PAGELLM_JINJA_TEST

}  // namespace

bool HasTest(const std::string& name) { return Table().count(name) != 0; }

StatusOr<bool> CallTest(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
  auto it = Table().find(name);
  if (it == Table().end()) return InvalidArgumentError("No test named '" + name + "'.");
  return it->second(in, v, args);
}

}  // namespace pagellm::jinja

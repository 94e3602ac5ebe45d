// Jinja2's `is` tests, with Python's type model: bool is a number, strings and dicts are sequences,
// Undefined is iterable.
#include <unordered_map>

#include "text/jinja_interpreter.h"
#include "text/jinja_strings.h"

namespace arbiter::jinja {

namespace {

using TestFn = bool (*)(Interpreter&, const Value&, CallArgs&);

const Value& arg0(CallArgs& args, const char* test) {
  if (args.positional.empty()) fail(std::string("test '") + test + "' needs an argument");
  return args.positional[0];
}

bool t_defined(Interpreter&, const Value& v, CallArgs&) { return !v.is_undefined(); }
bool t_undefined(Interpreter&, const Value& v, CallArgs&) { return v.is_undefined(); }
bool t_none(Interpreter&, const Value& v, CallArgs&) { return v.is_none(); }
bool t_boolean(Interpreter&, const Value& v, CallArgs&) { return v.kind == Kind::Bool; }
bool t_true(Interpreter&, const Value& v, CallArgs&) { return v.kind == Kind::Bool && v.boolean; }
bool t_false(Interpreter&, const Value& v, CallArgs&) { return v.kind == Kind::Bool && !v.boolean; }
bool t_integer(Interpreter&, const Value& v, CallArgs&) { return v.kind == Kind::Int; }
bool t_float(Interpreter&, const Value& v, CallArgs&) { return v.kind == Kind::Float; }
bool t_number(Interpreter&, const Value& v, CallArgs&) { return v.is_number(); }
bool t_string(Interpreter&, const Value& v, CallArgs&) { return v.is_string(); }
bool t_mapping(Interpreter&, const Value& v, CallArgs&) { return v.is_dict() && v.dict->role == DictRole::Mapping; }
bool t_iterable(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() || v.is_list() || v.is_undefined() || (v.is_dict() && v.dict->role == DictRole::Mapping);
}
bool t_sequence(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() || v.is_list() || (v.is_dict() && v.dict->role == DictRole::Mapping);
}
bool t_callable(Interpreter&, const Value& v, CallArgs&) { return v.kind == Kind::Callable; }

int64_t integer_operand(const Value& v, const char* test) {
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_integral()) fail(std::string("test '") + test + "' expects an integer, got " + type_name(v));
  return v.as_int();
}
bool t_odd(Interpreter&, const Value& v, CallArgs&) { return integer_operand(v, "odd") % 2 != 0; }
bool t_even(Interpreter&, const Value& v, CallArgs&) { return integer_operand(v, "even") % 2 == 0; }
bool t_divisibleby(Interpreter&, const Value& v, CallArgs& args) {
  int64_t d = integer_operand(arg0(args, "divisibleby"), "divisibleby");
  if (d == 0) fail("integer division or modulo by zero");
  return integer_operand(v, "divisibleby") % d == 0;
}

bool ordered(const Value& a, const Value& b, const char* op, int* c) {
  bool ok = false;
  *c = compare(a, b, &ok);
  if (!ok) fail(std::string("'") + op + "' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
  return true;
}
bool t_eq(Interpreter&, const Value& v, CallArgs& a) { return equals(v, arg0(a, "eq")); }
bool t_ne(Interpreter&, const Value& v, CallArgs& a) { return !equals(v, arg0(a, "ne")); }
bool t_lt(Interpreter&, const Value& v, CallArgs& a) { int c; ordered(v, arg0(a, "lt"), "<", &c); return c < 0; }
bool t_le(Interpreter&, const Value& v, CallArgs& a) { int c; ordered(v, arg0(a, "le"), "<=", &c); return c <= 0; }
bool t_gt(Interpreter&, const Value& v, CallArgs& a) { int c; ordered(v, arg0(a, "gt"), ">", &c); return c > 0; }
bool t_ge(Interpreter&, const Value& v, CallArgs& a) { int c; ordered(v, arg0(a, "ge"), ">=", &c); return c >= 0; }

bool t_sameas(Interpreter&, const Value& v, CallArgs& args) {
  const Value& other = arg0(args, "sameas");
  if (v.kind != other.kind) return false;
  switch (v.kind) {
    case Kind::List: return v.list == other.list;
    case Kind::Dict: return v.dict == other.dict;
    case Kind::Callable: return v.callable == other.callable;
    default: return equals(v, other);
  }
}

bool t_in(Interpreter&, const Value& v, CallArgs& args) {
  const Value& container = arg0(args, "in");
  if (container.is_string()) return v.is_string() && container.text.find(v.text) != std::string::npos;
  if (container.is_list()) {
    for (const auto& item : *container.list) {
      if (equals(item, v)) return true;
    }
    return false;
  }
  if (container.is_dict()) return container.dict->find(v) != nullptr;
  fail("argument of type '" + type_name(container) + "' is not iterable");
}

bool t_lower(Interpreter&, const Value& v, CallArgs&) {
  std::string s = to_str(v);
  return py_lower(s) == s && py_upper(s) != s;
}
bool t_upper(Interpreter&, const Value& v, CallArgs&) {
  std::string s = to_str(v);
  return py_upper(s) == s && py_lower(s) != s;
}
bool t_escaped(Interpreter&, const Value&, CallArgs&) { return false; }
bool t_filter(Interpreter&, const Value& v, CallArgs&) { return v.is_string() && has_filter(v.text); }
bool t_test(Interpreter&, const Value& v, CallArgs&) { return v.is_string() && has_test(v.text); }

const std::unordered_map<std::string, TestFn>& tests() {
  static const std::unordered_map<std::string, TestFn> table = {
      {"defined", t_defined},   {"undefined", t_undefined}, {"none", t_none},       {"boolean", t_boolean},
      {"true", t_true},         {"false", t_false},         {"integer", t_integer}, {"float", t_float},
      {"number", t_number},     {"string", t_string},       {"mapping", t_mapping}, {"iterable", t_iterable},
      {"sequence", t_sequence}, {"callable", t_callable},   {"odd", t_odd},         {"even", t_even},
      {"divisibleby", t_divisibleby}, {"eq", t_eq},         {"equalto", t_eq},      {"==", t_eq},
      {"ne", t_ne},             {"!=", t_ne},               {"lt", t_lt},           {"lessthan", t_lt},
      {"<", t_lt},              {"le", t_le},               {"<=", t_le},           {"gt", t_gt},
      {"greaterthan", t_gt},    {">", t_gt},                {"ge", t_ge},           {">=", t_ge},
      {"sameas", t_sameas},     {"in", t_in},               {"lower", t_lower},     {"upper", t_upper},
      {"escaped", t_escaped},   {"filter", t_filter},       {"test", t_test},
  };
  return table;
}

}  // namespace

bool has_test(const std::string& name) { return tests().count(name) != 0; }

bool run_test(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args) {
  return tests().at(name)(in, operand, args);
}

}  // namespace arbiter::jinja

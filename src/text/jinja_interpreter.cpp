#include "text/jinja_interpreter.h"

#include <cmath>
#include <limits>
#include <optional>

#include "text/jinja_strings.h"

namespace arbiter::jinja {

const Value* Scope::lookup(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent.get()) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

std::vector<Value> CallArgs::bind(const std::string& what, const std::vector<std::string>& names) const {
  if (positional.size() > names.size()) {
    fail(what + "() takes at most " + std::to_string(names.size()) + " argument(s), " + std::to_string(positional.size()) +
         " given");
  }
  std::vector<Value> out(names.size());
  for (size_t i = 0; i < positional.size(); ++i) out[i] = positional[i];
  for (const auto& [key, value] : keyword) {
    size_t i = 0;
    while (i < names.size() && names[i] != key) ++i;
    if (i == names.size()) fail(what + "() got an unexpected keyword argument '" + key + "'");
    if (i < positional.size()) fail(what + "() got multiple values for argument '" + key + "'");
    out[i] = value;
  }
  return out;
}

void fail_undefined(const Value& undefined) { fail(undefined.text.empty() ? "value is undefined" : undefined.text); }

const std::string& require_string(const Value& v, const char* what) {
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_string()) fail(std::string(what) + " expects a string, got " + type_name(v));
  return v.text;
}

namespace {

std::string object_type_repr(const Value& v) {
  if (v.is_none()) return "None";
  return type_name(v) + " object";
}

Value missing_attribute(const Value& obj, const std::string& name) {
  return Value::undefined("'" + object_type_repr(obj) + "' has no attribute '" + name + "'");
}

double python_mod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  // Python gives a zero remainder the divisor's sign (-5 % 2.5 is 0.0, not -0.0).
  if (m == 0) m = std::copysign(0.0, b);
  return m;
}

}  // namespace

void Interpreter::step() {
  if (++steps_ > limits_.max_steps) {
    fail("template exceeded the limit of " + std::to_string(limits_.max_steps) + " evaluation steps");
  }
}

void Interpreter::check_size(size_t bytes) const {
  if (bytes > limits_.max_output_bytes) {
    fail("template output exceeded the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
  }
}

void Interpreter::emit(std::string* out, const std::string& text) const {
  check_size(out->size() + text.size());
  *out += text;
}

std::string Interpreter::render(const Body& body, ScopePtr globals) {
  auto scope = std::make_shared<Scope>();
  scope->parent = std::move(globals);
  std::string out;
  exec(body, scope, &out);
  return out;
}

// ---- statements ----

Interpreter::Flow Interpreter::exec(const Body& body, const ScopePtr& scope, std::string* out) {
  for (const auto& s : body) {
    Flow f;
    try {
      f = exec_stmt(*s, scope, out);
    } catch (TemplateError& e) {
      if (e.line == 0) e.line = s->line;
      throw;
    }
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::exec_stmt(const Stmt& s, const ScopePtr& scope, std::string* out) {
  step();
  switch (s.kind) {
    case StmtKind::Text: emit(out, s.text); return Flow::Normal;
    case StmtKind::Print: emit(out, to_str(eval(*s.expr, scope))); return Flow::Normal;
    case StmtKind::If:
      for (const auto& [test, body] : s.branches) {
        if (truthy(eval(*test, scope))) return exec(body, scope, out);
      }
      return exec(s.else_body, scope, out);
    case StmtKind::For: exec_for(s, scope, out); return Flow::Normal;
    case StmtKind::Set: assign(s.target, eval(*s.expr, scope), scope, s.line); return Flow::Normal;
    case StmtKind::SetBlock:
    case StmtKind::FilterBlock: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      std::string captured;
      exec(s.body, inner, &captured);
      Value v = Value::from_string(std::move(captured));
      for (const auto& f : s.filters) {
        CallArgs args = eval_args(*f, 1, scope);
        v = apply_filter(f->name, v, args);
      }
      if (s.kind == StmtKind::SetBlock) {
        assign(s.target, v, scope, s.line);
      } else {
        emit(out, to_str(v));
      }
      return Flow::Normal;
    }
    case StmtKind::Macro: {
      auto c = std::make_shared<Callable>();
      c->type = Callable::Type::Macro;
      c->name = s.text;
      c->macro = &s;
      c->closure = scope;
      Value v;
      v.kind = Kind::Callable;
      v.callable = std::move(c);
      scope->vars[s.text] = std::move(v);
      return Flow::Normal;
    }
    case StmtKind::CallBlock: {
      const Expr& call_expr = *s.expr;
      Value fn = eval(*call_expr.children[0], scope);
      CallArgs args = eval_args(call_expr, 1, scope);
      auto c = std::make_shared<Callable>();
      c->type = Callable::Type::Macro;
      c->name = "caller";
      c->macro = &s;
      c->closure = scope;
      Value caller;
      caller.kind = Kind::Callable;
      caller.callable = std::move(c);
      args.keyword.emplace_back("caller", std::move(caller));
      emit(out, to_str(call(fn, args, s.line)));
      return Flow::Normal;
    }
    case StmtKind::With: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      for (const auto& [target, expr] : s.assigns) assign(target, eval(*expr, scope), inner, s.line);
      return exec(s.body, inner, out);
    }
    case StmtKind::Break: return Flow::Break;
    case StmtKind::Continue: return Flow::Continue;
  }
  return Flow::Normal;
}

void Interpreter::assign(const Target& t, const Value& v, const ScopePtr& scope, int line) {
  if (!t.attribute.empty()) {
    const Value* ns = scope->lookup(t.names[0]);
    if (!ns || !ns->is_dict() || ns->dict->role != DictRole::Namespace) {
      fail("cannot assign attribute on non-namespace object '" + t.names[0] + "'", line);
    }
    ns->dict->set(t.attribute, v);
    return;
  }
  if (!t.unpack) {
    scope->vars[t.names[0]] = v;
    return;
  }
  std::vector<Value> items = iterate(v);
  if (items.size() != t.names.size()) {
    fail(items.size() > t.names.size() ? "too many values to unpack (expected " + std::to_string(t.names.size()) + ")"
                                       : "not enough values to unpack (expected " + std::to_string(t.names.size()) +
                                             ", got " + std::to_string(items.size()) + ")",
         line);
  }
  for (size_t i = 0; i < items.size(); ++i) scope->vars[t.names[i]] = items[i];
}

void Interpreter::exec_for(const Stmt& s, const ScopePtr& scope, std::string* out) {
  std::vector<Value> items = iterate(eval(*s.expr, scope));
  if (s.condition) {
    std::vector<Value> kept;
    for (auto& item : items) {
      auto probe = std::make_shared<Scope>();
      probe->parent = scope;
      assign(s.target, item, probe, s.line);
      if (truthy(eval(*s.condition, probe))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    exec(s.else_body, scope, out);
    return;
  }
  // One loop object and one iteration scope serve every iteration (updated in place): building them
  // afresh per item dominated the cost of tight loops.
  const int64_t n = static_cast<int64_t>(items.size());
  auto index = std::make_shared<int64_t>(0);
  Value loop = Value::new_dict(DictRole::Loop);
  static const char* const kFields[] = {"index", "index0", "revindex", "revindex0", "first", "last",
                                        "length", "depth", "depth0", "previtem", "nextitem", "cycle", "changed"};
  for (const char* f : kFields) loop.dict->items.emplace_back(Value::from_string(f), Value());
  auto& fields = loop.dict->items;
  fields[6].second = Value::from_int(n);
  fields[7].second = Value::from_int(1);
  fields[8].second = Value::from_int(0);
  fields[11].second = make_builtin("loop.cycle", [index](Interpreter&, CallArgs& args) {
    if (args.positional.empty()) fail("no items for cycling given");
    return args.positional[static_cast<size_t>(*index) % args.positional.size()];
  });
  // loop.changed(*values): true on the first call and whenever the values differ from the last call's.
  auto last_changed = std::make_shared<std::optional<Value>>();
  fields[12].second = make_builtin("loop.changed", [last_changed](Interpreter&, CallArgs& args) {
    if (!args.keyword.empty()) fail("changed() got an unexpected keyword argument '" + args.keyword[0].first + "'");
    Value values = Value::from_list(args.positional, /*tuple=*/true);
    if (*last_changed && equals(**last_changed, values)) return Value::from_bool(false);
    *last_changed = std::move(values);
    return Value::from_bool(true);
  });
  auto iteration = std::make_shared<Scope>();
  iteration->parent = scope;
  for (int64_t i = 0; i < n; ++i) {
    *index = i;
    fields[0].second = Value::from_int(i + 1);
    fields[1].second = Value::from_int(i);
    fields[2].second = Value::from_int(n - i);
    fields[3].second = Value::from_int(n - i - 1);
    fields[4].second = Value::from_bool(i == 0);
    fields[5].second = Value::from_bool(i == n - 1);
    fields[9].second = i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item");
    fields[10].second = i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item");
    // A fresh scope per iteration unless nothing kept a reference to the last one (a macro's closure).
    if (iteration.use_count() > 1) {
      iteration = std::make_shared<Scope>();
      iteration->parent = scope;
    } else {
      iteration->vars.clear();
    }
    assign(s.target, items[static_cast<size_t>(i)], iteration, s.line);
    iteration->vars["loop"] = loop;
    Flow f = exec(s.body, iteration, out);
    if (f == Flow::Break) break;
  }
}

// ---- expressions ----

Value Interpreter::eval(const Expr& e, const ScopePtr& scope) {
  step();
  try {
    switch (e.kind) {
      case ExprKind::Const: return e.constant;
      case ExprKind::Name: {
        const Value* v = scope->lookup(e.name);
        return v ? *v : Value::undefined("'" + e.name + "' is undefined");
      }
      case ExprKind::List:
      case ExprKind::Tuple: {
        List items;
        items.reserve(e.children.size());
        for (const auto& c : e.children) items.push_back(eval(*c, scope));
        return Value::from_list(std::move(items), e.kind == ExprKind::Tuple);
      }
      case ExprKind::Dict: {
        Value d = Value::new_dict();
        for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
          d.dict->set(eval(*e.children[i], scope), eval(*e.children[i + 1], scope));
        }
        return d;
      }
      case ExprKind::GetAttr: return get_attr(eval(*e.children[0], scope), e.name);
      case ExprKind::GetItem: return get_item(eval(*e.children[0], scope), eval(*e.children[1], scope));
      case ExprKind::Slice: {
        Value obj = eval(*e.children[0], scope);
        std::optional<int64_t> part[3];
        for (int k = 0; k < 3; ++k) {
          if (!e.children[static_cast<size_t>(k) + 1]) continue;
          Value p = eval(*e.children[static_cast<size_t>(k) + 1], scope);
          if (p.is_none()) continue;
          if (!p.is_integral()) fail("slice indices must be integers or None, not " + type_name(p));
          part[k] = p.as_int();
        }
        if (part[2] && *part[2] == 0) fail("slice step cannot be zero");
        if (obj.is_undefined()) fail_undefined(obj);
        if (obj.is_string()) {
          std::vector<uint32_t> cps = utf8_decode(obj.text);
          std::string s;
          for (int64_t i : slice_indices(static_cast<int64_t>(cps.size()), part[0], part[1], part[2])) {
            utf8_append(cps[static_cast<size_t>(i)], &s);
          }
          return Value::from_string(std::move(s));
        }
        if (obj.is_list()) {
          List items;
          for (int64_t i : slice_indices(static_cast<int64_t>(obj.list->size()), part[0], part[1], part[2])) {
            items.push_back((*obj.list)[static_cast<size_t>(i)]);
          }
          return Value::from_list(std::move(items), obj.is_tuple);
        }
        return Value::undefined("'" + object_type_repr(obj) + "' cannot be sliced");
      }
      case ExprKind::Call: return eval_call(e, scope);
      case ExprKind::Filter: {
        Value operand = eval(*e.children[0], scope);
        CallArgs args = eval_args(e, 1, scope);
        return apply_filter(e.name, operand, args);
      }
      case ExprKind::Test: {
        Value operand = eval(*e.children[0], scope);
        CallArgs args = eval_args(e, 1, scope);
        return Value::from_bool(apply_test(e.name, operand, args));
      }
      case ExprKind::Neg:
      case ExprKind::Pos: {
        Value v = eval(*e.children[0], scope);
        if (v.is_undefined()) fail_undefined(v);
        if (!v.is_number()) fail("bad operand type for unary " + std::string(e.kind == ExprKind::Neg ? "-" : "+") + ": '" + type_name(v) + "'");
        if (e.kind == ExprKind::Pos) return v.kind == Kind::Bool ? Value::from_int(v.as_int()) : v;
        if (v.kind == Kind::Float) return Value::from_float(-v.number);
        return Value::from_int(-v.as_int());
      }
      case ExprKind::Not: return Value::from_bool(!truthy(eval(*e.children[0], scope)));
      case ExprKind::And: {
        Value a = eval(*e.children[0], scope);
        return truthy(a) ? eval(*e.children[1], scope) : a;
      }
      case ExprKind::Or: {
        Value a = eval(*e.children[0], scope);
        return truthy(a) ? a : eval(*e.children[1], scope);
      }
      case ExprKind::Binary: return eval_binary(e, scope);
      case ExprKind::Compare: return eval_compare(e, scope);
      case ExprKind::Cond: {
        if (truthy(eval(*e.children[1], scope))) return eval(*e.children[0], scope);
        if (e.children[2]) return eval(*e.children[2], scope);
        return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
      }
    }
  } catch (TemplateError& err) {
    if (err.line == 0) err.line = e.line;
    throw;
  }
  return Value::undefined();
}

CallArgs Interpreter::eval_args(const Expr& e, size_t first_arg, const ScopePtr& scope) {
  CallArgs args;
  for (size_t i = first_arg; i < e.children.size(); ++i) args.positional.push_back(eval(*e.children[i], scope));
  for (const auto& [key, expr] : e.kwargs) args.keyword.emplace_back(key, eval(*expr, scope));
  return args;
}

Value Interpreter::eval_call(const Expr& e, const ScopePtr& scope) {
  Value fn = eval(*e.children[0], scope);
  CallArgs args = eval_args(e, 1, scope);
  return call(fn, args, e.line);
}

Value Interpreter::call(const Value& fn, CallArgs& args, int line) {
  if (fn.is_undefined()) fail_undefined(fn);
  if (fn.kind != Kind::Callable) fail("'" + type_name(fn) + "' object is not callable", line);
  const Callable& c = *fn.callable;
  switch (c.type) {
    case Callable::Type::Builtin: return c.builtin(*this, args);
    case Callable::Type::Method: return call_method(*this, c.self, c.name, args);
    case Callable::Type::Macro: return call_macro(c, args);
  }
  return Value::undefined();
}

Value Interpreter::call_macro(const Callable& c, CallArgs& args) {
  if (call_depth_ >= limits_.max_call_depth) {
    fail("macro calls nested deeper than " + std::to_string(limits_.max_call_depth) + " (runaway recursion?)");
  }
  struct DepthGuard {
    int* depth;
    ~DepthGuard() { --*depth; }
  } guard{&++call_depth_};
  const Stmt& m = *c.macro;
  auto scope = std::make_shared<Scope>();
  scope->parent = c.closure;
  std::vector<bool> used_keyword(args.keyword.size(), false);
  for (size_t i = 0; i < m.params.size(); ++i) {
    const auto& [name, default_expr] = m.params[i];
    Value v;
    bool found = false;
    if (i < args.positional.size()) {
      v = args.positional[i];
      found = true;
    }
    for (size_t k = 0; k < args.keyword.size(); ++k) {
      if (args.keyword[k].first != name) continue;
      if (found) fail("macro '" + c.name + "' got multiple values for argument '" + name + "'");
      v = args.keyword[k].second;
      used_keyword[k] = true;
      found = true;
    }
    if (!found) {
      v = default_expr ? eval(*default_expr, scope) : Value::undefined("parameter '" + name + "' was not provided");
    }
    scope->vars[name] = std::move(v);
  }
  // As Jinja2: extra arguments only where the body takes them (names varargs / kwargs).
  if (!m.uses_varargs && args.positional.size() > m.params.size())
    fail("macro '" + c.name + "' takes not more than " + std::to_string(m.params.size()) + " argument(s)");
  if (!m.uses_kwargs)
    for (size_t k = 0; k < args.keyword.size(); ++k)
      if (!used_keyword[k] && args.keyword[k].first != "caller")
        fail("macro '" + c.name + "' takes no keyword argument '" + args.keyword[k].first + "'");
  List varargs;
  for (size_t i = m.params.size(); i < args.positional.size(); ++i) varargs.push_back(args.positional[i]);
  Value kwargs = Value::new_dict();
  for (size_t k = 0; k < args.keyword.size(); ++k) {
    if (used_keyword[k]) continue;
    if (args.keyword[k].first == "caller") {
      scope->vars["caller"] = args.keyword[k].second;
    } else {
      kwargs.dict->set(args.keyword[k].first, args.keyword[k].second);
    }
  }
  scope->vars["varargs"] = Value::from_list(std::move(varargs), true);
  scope->vars["kwargs"] = std::move(kwargs);
  std::string out;
  exec(m.body, scope, &out);
  return Value::from_string(std::move(out));
}

Value Interpreter::eval_binary(const Expr& e, const ScopePtr& scope) {
  Value a = eval(*e.children[0], scope);
  Value b = eval(*e.children[1], scope);
  const std::string& op = e.name;
  if (op == "~") {
    std::string s = to_str(a) + to_str(b);
    check_size(s.size());
    return Value::from_string(std::move(s));
  }
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  auto unsupported = [&]() -> Value {
    if (op == "+" && a.is_string()) fail("can only concatenate str (not \"" + type_name(b) + "\") to str");
    if (op == "+" && a.is_list() && !a.is_tuple) fail("can only concatenate list (not \"" + type_name(b) + "\") to list");
    fail("unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
  };
  if (a.is_number() && b.is_number()) {
    bool ints = a.is_integral() && b.is_integral();
    int64_t x = a.as_int(), y = b.as_int(), r = 0;
    double p = a.as_double(), q = b.as_double();
    if (ints && (op == "+" || op == "-" || op == "*")) {
      bool overflow = op == "+" ? __builtin_add_overflow(x, y, &r)
                      : op == "-" ? __builtin_sub_overflow(x, y, &r)
                                  : __builtin_mul_overflow(x, y, &r);
      if (overflow) fail("integer overflow in '" + op + "'");
      return Value::from_int(r);
    }
    if (op == "+") return Value::from_float(p + q);
    if (op == "-") return Value::from_float(p - q);
    if (op == "*") return Value::from_float(p * q);
    if (op == "/") {
      if (q == 0) fail("division by zero");
      return Value::from_float(p / q);
    }
    if (op == "//" || op == "%") {
      if (ints) {
        if (y == 0) fail("integer division or modulo by zero");
        // INT64_MIN / -1 does not fit (a trap on x86); Python's answer, 2**63, is past our integers.
        if (y == -1) {
          if (op == "%") return Value::from_int(0);
          if (x == std::numeric_limits<int64_t>::min()) fail("integer overflow");
          return Value::from_int(-x);
        }
        int64_t quot = x / y, rem = x % y;
        if (rem != 0 && ((rem < 0) != (y < 0))) {
          --quot;
          rem += y;
        }
        return Value::from_int(op == "//" ? quot : rem);
      }
      if (q == 0) fail("float division by zero");
      return Value::from_float(op == "//" ? std::floor(p / q) : python_mod(p, q));
    }
    if (op == "**") {
      if (ints && y >= 0) {
        int64_t result = 1, base = x;
        for (int64_t k = 0; k < y; ++k) {
          if (__builtin_mul_overflow(result, base, &result)) fail("integer overflow in '**'");
          if (result == 0 || result == 1) break;
        }
        return Value::from_int(result);
      }
      return Value::from_float(std::pow(p, q));
    }
    return unsupported();
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      check_size(a.text.size() + b.text.size());
      return Value::from_string(a.text + b.text);
    }
    if (a.is_list() && b.is_list() && a.is_tuple == b.is_tuple) {
      check_size((a.list->size() + b.list->size()) * sizeof(Value));
      List items = *a.list;
      items.insert(items.end(), b.list->begin(), b.list->end());
      return Value::from_list(std::move(items), a.is_tuple);
    }
    return unsupported();
  }
  if (op == "*") {
    const Value& seq = a.is_integral() ? b : a;
    const Value& count = a.is_integral() ? a : b;
    if (!count.is_integral() || (!seq.is_string() && !seq.is_list())) return unsupported();
    int64_t n = std::max<int64_t>(0, count.as_int());
    size_t unit = seq.is_string() ? seq.text.size() : seq.list->size() * sizeof(Value);
    if (unit && static_cast<uint64_t>(n) > limits_.max_output_bytes / unit) check_size(limits_.max_output_bytes + 1);
    if (seq.is_string()) {
      std::string s;
      for (int64_t i = 0; i < n; ++i) s += seq.text;
      return Value::from_string(std::move(s));
    }
    List items;
    for (int64_t i = 0; i < n; ++i) items.insert(items.end(), seq.list->begin(), seq.list->end());
    return Value::from_list(std::move(items), seq.is_tuple);
  }
  if (op == "%" && a.is_string()) {
    CallArgs args;
    if (b.is_list() && b.is_tuple) {
      args.positional = *b.list;
    } else {
      args.positional.push_back(b);
    }
    return apply_filter("format", a, args);
  }
  return unsupported();
}

namespace {

bool contains(const Value& container, const Value& item) {
  switch (container.kind) {
    case Kind::String:
      if (item.is_undefined()) fail_undefined(item);
      if (!item.is_string()) fail("'in <string>' requires string as left operand, not " + type_name(item));
      return container.text.find(item.text) != std::string::npos;
    case Kind::List:
      for (const auto& v : *container.list) {
        if (equals(v, item)) return true;
      }
      return false;
    case Kind::Dict: return container.dict->find(item) != nullptr;
    case Kind::Undefined: return false;
    default: fail("argument of type '" + type_name(container) + "' is not iterable");
  }
}

}  // namespace

Value Interpreter::eval_compare(const Expr& e, const ScopePtr& scope) {
  Value left = eval(*e.children[0], scope);
  for (size_t i = 0; i < e.compare_ops.size(); ++i) {
    Value right = eval(*e.children[i + 1], scope);
    const std::string& op = e.compare_ops[i];
    bool result;
    if (op == "==") {
      result = equals(left, right);
    } else if (op == "!=") {
      result = !equals(left, right);
    } else if (op == "in") {
      result = contains(right, left);
    } else if (op == "notin") {
      result = !contains(right, left);
    } else {
      bool ok = false;
      int c = compare(left, right, &ok);
      if (!ok) {
        if (left.is_undefined()) fail_undefined(left);
        if (right.is_undefined()) fail_undefined(right);
        fail("'" + op + "' not supported between instances of '" + type_name(left) + "' and '" + type_name(right) + "'");
      }
      result = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    }
    if (!result) return Value::from_bool(false);
    left = std::move(right);
  }
  return Value::from_bool(true);
}

// ---- attribute and item access: Jinja's sandboxed getattr/getitem ----

Value Interpreter::get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) fail_undefined(obj);
  Value method;
  if (obj.is_dict()) {
    if (obj.dict->role == DictRole::Mapping && lookup_method(obj, name, &method)) return method;
    if (const Value* v = obj.dict->find(name)) return *v;
    return missing_attribute(obj, name);
  }
  if (obj.is_group && (name == "grouper" || name == "list")) return (*obj.list)[name == "grouper" ? 0 : 1];
  if (lookup_method(obj, name, &method)) return method;
  return missing_attribute(obj, name);
}

Value Interpreter::get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_dict()) {
    if (const Value* v = obj.dict->find(key)) return *v;
  } else if ((obj.is_list() || obj.is_string()) && key.is_integral()) {
    int64_t n = static_cast<int64_t>(obj.is_list() ? obj.list->size() : utf8_length(obj.text));
    int64_t i = key.as_int();
    if (i < 0) i += n;
    if (i >= 0 && i < n) {
      if (obj.is_list()) return (*obj.list)[static_cast<size_t>(i)];
      std::vector<uint32_t> cps = utf8_decode(obj.text);
      std::string ch;
      utf8_append(cps[static_cast<size_t>(i)], &ch);
      return Value::from_string(std::move(ch));
    }
    return Value::undefined("'" + object_type_repr(obj) + "' has no element " + std::to_string(key.as_int()));
  }
  if (key.is_string()) {
    Value method;
    if (lookup_method(obj, key.text, &method)) return method;
    return missing_attribute(obj, key.text);
  }
  return Value::undefined("'" + object_type_repr(obj) + "' has no element " + to_repr(key));
}

Value Interpreter::get_path(const Value& obj, const std::string& path) {
  Value cur = obj;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    cur = get_item(cur, digits ? Value::from_int(std::stoll(part)) : Value::from_string(part));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

std::vector<Value> Interpreter::iterate(const Value& v) {
  switch (v.kind) {
    case Kind::List: return *v.list;
    case Kind::Dict: {
      if (v.dict->role != DictRole::Mapping) break;
      std::vector<Value> keys;
      keys.reserve(v.dict->items.size());
      for (const auto& [k, val] : v.dict->items) keys.push_back(k);
      return keys;
    }
    case Kind::String: {
      std::vector<Value> chars;
      for (uint32_t cp : utf8_decode(v.text)) {
        std::string ch;
        utf8_append(cp, &ch);
        chars.push_back(Value::from_string(std::move(ch)));
      }
      return chars;
    }
    case Kind::Undefined: return {};
    default: break;
  }
  fail("'" + type_name(v) + "' object is not iterable");
}

Value Interpreter::apply_filter(const std::string& name, const Value& operand, CallArgs& args) {
  if (!has_filter(name)) fail("no filter named '" + name + "'");
  return run_filter(*this, name, operand, args);
}

bool Interpreter::apply_test(const std::string& name, const Value& operand, CallArgs& args) {
  if (!has_test(name)) fail("no test named '" + name + "'");
  return run_test(*this, name, operand, args);
}

Value make_builtin(std::string name, BuiltinFn fn) {
  auto c = std::make_shared<Callable>();
  c->type = Callable::Type::Builtin;
  c->name = std::move(name);
  c->builtin = std::move(fn);
  Value v;
  v.kind = Kind::Callable;
  v.callable = std::move(c);
  return v;
}

Value make_method(const Value& self, const std::string& name) {
  auto c = std::make_shared<Callable>();
  c->type = Callable::Type::Method;
  c->name = name;
  c->self = self;
  Value v;
  v.kind = Kind::Callable;
  v.callable = std::move(c);
  return v;
}

}  // namespace arbiter::jinja

// Tree-walking evaluator of a parsed template (internal to src/text/jinja*): scopes, statements,
// expressions, calls, and the hooks the filters, tests and methods use. The public API is jinja.h.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/jinja_ast.h"
#include "text/jinja_error.h"
#include "text/jinja_value.h"

namespace arbiter::jinja {

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // Binds arguments to parameter names Python-style: the i-th name takes the i-th positional argument
  // or the keyword of that name. Unset ones come back Undefined. Fails on unknown keywords and
  // surplus positionals, naming `what` (the filter or function).
  std::vector<Value> bind(const std::string& what, const std::vector<std::string>& names) const;
};

class Interpreter;
using BuiltinFn = std::function<Value(Interpreter&, CallArgs&)>;

struct Callable {
  enum class Type { Builtin, Macro, Method };
  Type type = Type::Builtin;
  std::string name;
  BuiltinFn builtin;                 // Builtin
  const Stmt* macro = nullptr;       // Macro: a Macro or CallBlock statement (its params and body)
  std::shared_ptr<struct Scope> closure;
  Value self;                        // Method: the object the method is bound to
};

struct Scope {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;

  const Value* lookup(const std::string& name) const;
};
using ScopePtr = std::shared_ptr<Scope>;

struct Limits {
  size_t max_output_bytes = 16u << 20;  // also the largest string or list one operation may build
  uint64_t max_steps = 5'000'000;       // statements and expression nodes evaluated
  int max_call_depth = 64;              // nested macro calls
};

class Interpreter {
 public:
  Interpreter(Limits limits, std::time_t now) : limits_(limits), now_(now) {}

  // Runs the template body with `globals` as the outermost scope; returns the output.
  std::string render(const Body& body, ScopePtr globals);

  Value eval(const Expr& e, const ScopePtr& scope);
  Value call(const Value& fn, CallArgs& args, int line = 0);
  Value get_attr(const Value& obj, const std::string& name);
  Value get_item(const Value& obj, const Value& key);
  // Dotted attribute path as filters take it ("user.name", "0"), each step attribute-then-item.
  Value get_path(const Value& obj, const std::string& path);
  Value apply_filter(const std::string& name, const Value& operand, CallArgs& args);
  bool apply_test(const std::string& name, const Value& operand, CallArgs& args);
  std::vector<Value> iterate(const Value& v);

  void step();
  void check_size(size_t bytes) const;
  std::time_t now() const { return now_; }

 private:
  enum class Flow { Normal, Break, Continue };
  Flow exec(const Body& body, const ScopePtr& scope, std::string* out);
  Flow exec_stmt(const Stmt& s, const ScopePtr& scope, std::string* out);
  void exec_for(const Stmt& s, const ScopePtr& scope, std::string* out);
  void assign(const Target& t, const Value& v, const ScopePtr& scope, int line);
  Value call_macro(const Callable& c, CallArgs& args);
  Value eval_binary(const Expr& e, const ScopePtr& scope);
  Value eval_compare(const Expr& e, const ScopePtr& scope);
  Value eval_call(const Expr& e, const ScopePtr& scope);
  CallArgs eval_args(const Expr& e, size_t first_arg, const ScopePtr& scope);
  void emit(std::string* out, const std::string& text) const;

  Limits limits_;
  std::time_t now_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
};

// Builtins, each in its own file.
Value make_builtin(std::string name, BuiltinFn fn);
Value make_method(const Value& self, const std::string& name);
// Attribute of a str/list/dict that names a method: the bound method, an Undefined for methods the
// sandbox forbids (list.append, dict.update: transformers renders in an immutable sandbox), or
// nullopt-like Kind::Undefined with empty text when there is no such method.
bool lookup_method(const Value& self, const std::string& name, Value* out);
Value call_method(Interpreter& in, const Value& self, const std::string& name, CallArgs& args);
bool has_filter(const std::string& name);
Value run_filter(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args);
bool has_test(const std::string& name);
bool run_test(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args);
void add_global_functions(Scope* globals);

[[noreturn]] void fail_undefined(const Value& undefined);
// Python str(x) with Undefined failing where Python would (used by operators, not by printing).
const std::string& require_string(const Value& v, const char* what);

}  // namespace arbiter::jinja

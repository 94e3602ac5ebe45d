#include "text/jinja_parser.h"

#include <charconv>
#include <cstdlib>
#include <initializer_list>

#include "text/jinja_error.h"

namespace arbiter::jinja {

namespace {

// Deeper nesting than this is no real template; bounding it keeps hostile input off the C++ stack.
constexpr int kMaxNesting = 200;

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : toks_(tokens) {}

  Body parse_template() {
    Body body = parse_body({});
    if (cur().type != TokenType::End) fail("unexpected '" + cur().text + "'", cur().line);
    return body;
  }

 private:
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t ahead = 1) const { return toks_[std::min(pos_ + ahead, toks_.size() - 1)]; }
  void advance() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool is_op(const char* op) const { return cur().type == TokenType::Op && cur().text == op; }
  bool is_name(const char* name) const { return cur().type == TokenType::Name && cur().text == name; }
  bool accept_op(const char* op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool accept_name(const char* name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }
  std::string describe(const Token& t) const {
    switch (t.type) {
      case TokenType::End: return "end of template";
      case TokenType::VarEnd: return "'}}'";
      case TokenType::BlockEnd: return "'%}'";
      case TokenType::String: return "string";
      default: return "'" + t.text + "'";
    }
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) fail(std::string("expected '") + op + "', got " + describe(cur()), cur().line);
  }
  std::string expect_name() {
    if (cur().type != TokenType::Name) fail("expected a name, got " + describe(cur()), cur().line);
    std::string n = cur().text;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().type != TokenType::BlockEnd) fail("expected end of statement '%}', got " + describe(cur()), cur().line);
    advance();
  }

  struct DepthGuard {
    Parser* p;
    explicit DepthGuard(Parser* parser) : p(parser) {
      if (++p->depth_ > kMaxNesting) fail("template nested too deeply", p->cur().line);
    }
    ~DepthGuard() { --p->depth_; }
  };

  static ExprPtr node(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // ---- statements ----

  // Parses until a block tag whose name is in `end_names` (left unconsumed, positioned at its name).
  Body parse_body(std::initializer_list<const char*> end_names) {
    DepthGuard guard(this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == TokenType::End) {
        if (end_names.size() != 0) {
          fail(std::string("unexpected end of template, expected '") + *end_names.begin() + "'", t.line);
        }
        return body;
      }
      if (t.type == TokenType::Text) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Text;
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        advance();
      } else if (t.type == TokenType::VarBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Print;
        s->line = t.line;
        advance();
        s->expr = parse_tuple(true, {});
        if (cur().type != TokenType::VarEnd) fail("expected end of print statement '}}', got " + describe(cur()), cur().line);
        advance();
        body.push_back(std::move(s));
      } else if (t.type == TokenType::BlockBegin) {
        const Token& name = peek();
        if (name.type != TokenType::Name) fail("expected a statement name after '{%'", name.line);
        for (const char* end : end_names) {
          if (name.text == end) {
            advance();
            return body;
          }
        }
        advance();
        parse_statement(&body);
      } else {
        fail("unexpected " + describe(t), t.line);
      }
    }
  }

  void parse_statement(Body* out) {
    int line = cur().line;
    std::string tag = expect_name();
    auto s = std::make_unique<Stmt>();
    s->line = line;
    if (tag == "if") {
      s->kind = StmtKind::If;
      ExprPtr test = parse_tuple(false, {});
      expect_block_end();
      while (true) {
        Body body = parse_body({"elif", "else", "endif"});
        s->branches.emplace_back(std::move(test), std::move(body));
        std::string which = expect_name();
        if (which == "elif") {
          test = parse_tuple(false, {});
          expect_block_end();
          continue;
        }
        if (which == "else") {
          expect_block_end();
          s->else_body = parse_body({"endif"});
          expect_name();
        }
        expect_block_end();
        break;
      }
    } else if (tag == "for") {
      s->kind = StmtKind::For;
      s->target = parse_target(false);
      if (!accept_name("in")) fail("expected 'in' in for loop, got " + describe(cur()), cur().line);
      s->expr = parse_tuple(false, {"recursive"});
      if (accept_name("if")) s->condition = parse_expression(true);
      if (accept_name("recursive")) fail("recursive for loops are not supported", line);
      expect_block_end();
      ++loop_depth_;
      s->body = parse_body({"endfor", "else"});
      --loop_depth_;
      if (expect_name() == "else") {
        expect_block_end();
        s->else_body = parse_body({"endfor"});
        expect_name();
      }
      expect_block_end();
    } else if (tag == "set") {
      s->target = parse_target(true);
      if (accept_op("=")) {
        s->kind = StmtKind::Set;
        s->expr = parse_tuple(true, {});
        expect_block_end();
      } else {
        s->kind = StmtKind::SetBlock;
        if (s->target.unpack) fail("a block set cannot unpack into several names", line);
        if (is_op("|")) parse_filter_chain(&s->filters);
        expect_block_end();
        s->body = parse_body({"endset"});
        expect_name();
        expect_block_end();
      }
    } else if (tag == "macro") {
      s->kind = StmtKind::Macro;
      s->text = expect_name();
      parse_params(&s->params);
      expect_block_end();
      int outer_loop_depth = loop_depth_;
      loop_depth_ = 0;
      s->body = parse_body({"endmacro"});
      s->uses_varargs = body_names(s->body, "varargs");
      s->uses_kwargs = body_names(s->body, "kwargs");
      loop_depth_ = outer_loop_depth;
      expect_name();
      if (cur().type == TokenType::Name) advance();
      expect_block_end();
    } else if (tag == "call") {
      s->kind = StmtKind::CallBlock;
      if (is_op("(")) parse_params(&s->params);
      s->expr = parse_expression(true);
      if (s->expr->kind != ExprKind::Call) fail("expected a call after 'call'", line);
      expect_block_end();
      s->body = parse_body({"endcall"});
      s->uses_varargs = body_names(s->body, "varargs");
      s->uses_kwargs = body_names(s->body, "kwargs");
      expect_name();
      expect_block_end();
    } else if (tag == "filter") {
      s->kind = StmtKind::FilterBlock;
      parse_filter_chain(&s->filters);
      expect_block_end();
      s->body = parse_body({"endfilter"});
      expect_name();
      expect_block_end();
    } else if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) fail("'" + tag + "' outside of a loop", line);
      s->kind = tag == "break" ? StmtKind::Break : StmtKind::Continue;
      expect_block_end();
    } else if (tag == "with" || tag == "generation") {
      // {% generation %} is transformers' marker for assistant spans; it renders its body in a scope.
      s->kind = StmtKind::With;
      while (tag == "with" && cur().type != TokenType::BlockEnd) {
        if (!s->assigns.empty()) expect_op(",");
        Target t = parse_target(false);
        expect_op("=");
        s->assigns.emplace_back(std::move(t), parse_expression(true));
      }
      expect_block_end();
      s->body = parse_body({tag == "with" ? "endwith" : "endgeneration"});
      expect_name();
      expect_block_end();
    } else if (tag == "include" || tag == "import" || tag == "from" || tag == "extends" || tag == "block") {
      fail("the '" + tag + "' tag is not supported (templates must be self-contained)", line);
    } else {
      fail("unknown tag '" + tag + "'", line);
    }
    out->push_back(std::move(s));
  }

  Target parse_target(bool allow_namespace) {
    Target t;
    bool parens = accept_op("(");
    while (true) {
      t.names.push_back(expect_name());
      if (allow_namespace && t.names.size() == 1 && !parens && is_op(".")) {
        advance();
        t.attribute = expect_name();
        return t;
      }
      if (!accept_op(",")) break;
      t.unpack = true;
      if (parens && is_op(")")) break;
    }
    if (parens) {
      expect_op(")");
      t.unpack = true;
    }
    return t;
  }

  void parse_params(KwArgs* params) {
    expect_op("(");
    while (!is_op(")")) {
      if (!params->empty()) expect_op(",");
      if (is_op(")")) break;
      std::string name = expect_name();
      ExprPtr def;
      if (accept_op("=")) def = parse_expression(true);
      params->emplace_back(std::move(name), std::move(def));
    }
    expect_op(")");
  }

  void parse_filter_chain(std::vector<ExprPtr>* filters) {
    bool first = true;
    while (first || is_op("|")) {
      if (!first || is_op("|")) expect_op("|");
      first = false;
      filters->push_back(parse_filter_call(nullptr));
    }
  }

  // ---- expressions ----

  ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<const char*> extra_end, bool explicit_parens = false) {
    int line = cur().line;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (tuple_end(extra_end)) break;
      items.push_back(parse_expression(with_condexpr));
      if (is_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) fail("expected an expression, got " + describe(cur()), cur().line);
    }
    auto t = node(ExprKind::Tuple, line);
    t->children = std::move(items);
    return t;
  }

  bool tuple_end(std::initializer_list<const char*> extra_end) const {
    const Token& t = cur();
    if (t.type == TokenType::VarEnd || t.type == TokenType::BlockEnd || t.type == TokenType::End) return true;
    if (t.type == TokenType::Op && t.text == ")") return true;
    if (t.type == TokenType::Name) {
      for (const char* e : extra_end) {
        if (t.text == e) return true;
      }
    }
    return false;
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(this);
    if (!with_condexpr) return parse_or();
    ExprPtr expr = parse_or();
    while (is_name("if")) {
      int line = cur().line;
      advance();
      ExprPtr test = parse_or();
      ExprPtr otherwise;
      if (accept_name("else")) otherwise = parse_expression(true);
      auto c = node(ExprKind::Cond, line);
      c->children.push_back(std::move(expr));
      c->children.push_back(std::move(test));
      c->children.push_back(std::move(otherwise));
      expr = std::move(c);
    }
    return expr;
  }

  ExprPtr binary(ExprKind kind, ExprPtr a, ExprPtr b, int line, std::string op = {}) {
    auto n = node(kind, line);
    n->name = std::move(op);
    n->children.push_back(std::move(a));
    n->children.push_back(std::move(b));
    return n;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      int line = cur().line;
      advance();
      left = binary(ExprKind::Or, std::move(left), parse_and(), line);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      int line = cur().line;
      advance();
      left = binary(ExprKind::And, std::move(left), parse_not(), line);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(this);
      int line = cur().line;
      advance();
      auto n = node(ExprKind::Not, line);
      n->children.push_back(parse_not());
      return n;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    int line = cur().line;
    ExprPtr first = parse_math1();
    std::vector<std::string> ops;
    std::vector<ExprPtr> operands;
    while (true) {
      std::string op;
      if (cur().type == TokenType::Op &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" || cur().text == ">" ||
           cur().text == ">=")) {
        op = cur().text;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().type == TokenType::Name && peek().text == "in") {
        op = "notin";
        advance();
        advance();
      } else {
        break;
      }
      ops.push_back(op);
      operands.push_back(parse_math1());
    }
    if (ops.empty()) return first;
    auto c = node(ExprKind::Compare, line);
    c->children.push_back(std::move(first));
    for (auto& o : operands) c->children.push_back(std::move(o));
    c->compare_ops = std::move(ops);
    return c;
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = cur().text;
      int line = cur().line;
      advance();
      left = binary(ExprKind::Binary, std::move(left), parse_concat(), line, op);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (is_op("~")) {
      int line = cur().line;
      advance();
      left = binary(ExprKind::Binary, std::move(left), parse_math2(), line, "~");
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().text;
      int line = cur().line;
      advance();
      left = binary(ExprKind::Binary, std::move(left), parse_pow(), line, op);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
      int line = cur().line;
      advance();
      left = binary(ExprKind::Binary, std::move(left), parse_unary(true), line, "**");
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(this);
    int line = cur().line;
    ExprPtr n;
    if (is_op("-") || is_op("+")) {
      bool neg = is_op("-");
      advance();
      n = node(neg ? ExprKind::Neg : ExprKind::Pos, line);
      n->children.push_back(parse_unary(false));
    } else {
      n = parse_primary();
    }
    n = parse_postfix(std::move(n));
    if (with_filter) n = parse_filter_expr(std::move(n));
    return n;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    int line = t.line;
    if (t.type == TokenType::Name) {
      std::string name = t.text;
      advance();
      if (name == "true" || name == "True") return constant(Value::from_bool(true), line);
      if (name == "false" || name == "False") return constant(Value::from_bool(false), line);
      if (name == "none" || name == "None") return constant(Value::none(), line);
      auto n = node(ExprKind::Name, line);
      n->name = name;
      return n;
    }
    if (t.type == TokenType::String) {
      std::string s;
      while (cur().type == TokenType::String) {
        s += cur().text;
        advance();
      }
      return constant(Value::from_string(std::move(s)), line);
    }
    if (t.type == TokenType::Int) {
      int64_t v = 0;
      auto res = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
      advance();
      if (res.ec != std::errc()) return constant(Value::from_float(std::strtod(t.text.c_str(), nullptr)), line);
      return constant(Value::from_int(v), line);
    }
    if (t.type == TokenType::Float) {
      double v = std::strtod(t.text.c_str(), nullptr);
      advance();
      return constant(Value::from_float(v), line);
    }
    if (is_op("(")) {
      advance();
      ExprPtr e = parse_tuple(true, {}, true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) {
      advance();
      auto l = node(ExprKind::List, line);
      while (!is_op("]")) {
        if (!l->children.empty()) expect_op(",");
        if (is_op("]")) break;
        l->children.push_back(parse_expression(true));
      }
      expect_op("]");
      return l;
    }
    if (is_op("{")) {
      advance();
      auto d = node(ExprKind::Dict, line);
      while (!is_op("}")) {
        if (!d->children.empty()) expect_op(",");
        if (is_op("}")) break;
        d->children.push_back(parse_expression(true));
        expect_op(":");
        d->children.push_back(parse_expression(true));
      }
      expect_op("}");
      return d;
    }
    fail("unexpected " + describe(t), line);
  }

  ExprPtr constant(Value v, int line) {
    auto n = node(ExprKind::Const, line);
    n->constant = std::move(v);
    return n;
  }

  ExprPtr parse_postfix(ExprPtr n) {
    while (true) {
      int line = cur().line;
      if (is_op(".")) {
        advance();
        if (cur().type == TokenType::Int) {
          auto g = node(ExprKind::GetItem, line);
          g->children.push_back(std::move(n));
          g->children.push_back(parse_primary());
          n = std::move(g);
        } else {
          auto g = node(ExprKind::GetAttr, line);
          g->name = expect_name();
          g->children.push_back(std::move(n));
          n = std::move(g);
        }
      } else if (is_op("[")) {
        advance();
        n = parse_subscript(std::move(n), line);
      } else if (is_op("(")) {
        n = parse_call(std::move(n));
      } else {
        return n;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object, int line) {
    ExprPtr start, stop, step;
    bool is_slice = false;
    if (!is_op(":")) start = parse_expression(true);
    if (accept_op(":")) {
      is_slice = true;
      if (!is_op("]") && !is_op(":")) stop = parse_expression(true);
      if (accept_op(":")) {
        if (!is_op("]")) step = parse_expression(true);
      }
    }
    if (is_op(",")) fail("tuple subscripts are not supported", line);
    expect_op("]");
    if (!is_slice) {
      auto g = node(ExprKind::GetItem, line);
      g->children.push_back(std::move(object));
      g->children.push_back(std::move(start));
      return g;
    }
    auto s = node(ExprKind::Slice, line);
    s->children.push_back(std::move(object));
    s->children.push_back(std::move(start));
    s->children.push_back(std::move(stop));
    s->children.push_back(std::move(step));
    return s;
  }

  void parse_call_args(Expr* call) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) fail("*args and **kwargs in calls are not supported", cur().line);
      if (cur().type == TokenType::Name && peek().type == TokenType::Op && peek().text == "=") {
        std::string key = cur().text;
        advance();
        advance();
        call->kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!call->kwargs.empty()) fail("positional argument after keyword argument", cur().line);
        call->children.push_back(parse_expression(true));
      }
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto c = node(ExprKind::Call, cur().line);
    c->children.push_back(std::move(callee));
    parse_call_args(c.get());
    return c;
  }

  std::string dotted_name() {
    std::string name = expect_name();
    while (is_op(".")) {
      advance();
      name += '.';
      name += expect_name();
    }
    return name;
  }

  ExprPtr parse_filter_call(ExprPtr operand) {
    auto f = node(ExprKind::Filter, cur().line);
    f->name = dotted_name();
    f->children.push_back(std::move(operand));
    if (is_op("(")) parse_call_args(f.get());
    return f;
  }

  ExprPtr parse_filter_expr(ExprPtr n) {
    while (true) {
      if (is_op("|")) {
        advance();
        n = parse_filter_call(std::move(n));
      } else if (is_name("is")) {
        n = parse_test(std::move(n));
      } else if (is_op("(")) {
        n = parse_call(std::move(n));
      } else {
        return n;
      }
    }
  }

  ExprPtr parse_test(ExprPtr operand) {
    int line = cur().line;
    advance();  // 'is'
    bool negated = accept_name("not");
    auto t = node(ExprKind::Test, line);
    t->name = dotted_name();
    t->children.push_back(std::move(operand));
    const Token& c = cur();
    bool arg_start = c.type == TokenType::Name || c.type == TokenType::String || c.type == TokenType::Int ||
                     c.type == TokenType::Float || (c.type == TokenType::Op && (c.text == "[" || c.text == "{"));
    if (is_op("(")) {
      parse_call_args(t.get());
    } else if (arg_start && !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("tests cannot be chained with 'is'", line);
      t->children.push_back(parse_postfix(parse_primary()));
    }
    if (!negated) return t;
    auto n = node(ExprKind::Not, line);
    n->children.push_back(std::move(t));
    return n;
  }

  const std::vector<Token>& toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;  // for-loop bodies around the current point, for break/continue
};

}  // namespace

Result<Body> parse(const std::vector<Token>& tokens) {
  try {
    return Parser(tokens).parse_template();
  } catch (const TemplateError& e) {
    return error("template line " + std::to_string(e.line) + ": " + e.message);
  }
}

namespace {

bool expr_names(const Expr* e, const std::string& name) {
  if (e == nullptr) return false;
  if (e->kind == ExprKind::Name && e->name == name) return true;
  for (const ExprPtr& child : e->children)
    if (expr_names(child.get(), name)) return true;
  for (const auto& [key, value] : e->kwargs)
    if (expr_names(value.get(), name)) return true;
  return false;
}

}  // namespace

bool body_names(const Body& body, const std::string& name) {
  for (const StmtPtr& s : body) {
    if (expr_names(s->expr.get(), name) || expr_names(s->condition.get(), name)) return true;
    for (const auto& [test, branch] : s->branches)
      if (expr_names(test.get(), name) || body_names(branch, name)) return true;
    if (body_names(s->body, name) || body_names(s->else_body, name)) return true;
    for (const auto& [param, default_expr] : s->params)
      if (expr_names(default_expr.get(), name)) return true;
    for (const ExprPtr& filter : s->filters)
      if (expr_names(filter.get(), name)) return true;
    for (const auto& [target, value] : s->assigns)
      if (expr_names(value.get(), name)) return true;
  }
  return false;
}

}  // namespace arbiter::jinja

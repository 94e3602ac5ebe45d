// Syntax tree of a parsed Jinja template: one node type for expressions and one for statements,
// each with a kind and only the fields that kind uses (listed next to each field).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja_value.h"

namespace arbiter::jinja {

enum class ExprKind {
  Const, Name, List, Tuple, Dict, GetAttr, GetItem, Slice, Call, Filter, Test,
  Neg, Pos, Not, And, Or, Binary, Compare, Cond
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;
using KwArgs = std::vector<std::pair<std::string, ExprPtr>>;

struct Expr {
  ExprKind kind = ExprKind::Const;
  int line = 0;
  Value constant;                  // Const
  std::string name;                // Name; GetAttr attribute; Filter/Test name; Binary operator
  // List/Tuple: items. Dict: key0, value0, key1, ... GetAttr: [object]. GetItem: [object, index].
  // Slice: [object, start, stop, step] (absent parts null). Call: [callee, args...].
  // Filter/Test: [operand (null inside filter blocks), args...]. Unary: [x]. Binary/And/Or: [a, b].
  // Compare: operands. Cond: [then, test, else (may be null)].
  std::vector<ExprPtr> children;
  KwArgs kwargs;                   // Call/Filter/Test keyword arguments
  std::vector<std::string> compare_ops;  // Compare: ops between consecutive operands
};

// Left side of set/for: a name, names unpacked from a tuple, or `namespace.attribute`.
struct Target {
  std::vector<std::string> names;
  bool unpack = false;
  std::string attribute;           // non-empty: names[0].attribute
};

enum class StmtKind { Text, Print, If, For, Set, SetBlock, Macro, CallBlock, FilterBlock, Break, Continue, With };

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  StmtKind kind = StmtKind::Text;
  int line = 0;
  std::string text;                // Text: literal output; Macro: name
  ExprPtr expr;                    // Print: value; For: iterable; Set: value; CallBlock: the call
  ExprPtr condition;               // For: the `if` filter of the loop
  std::vector<std::pair<ExprPtr, Body>> branches;  // If: (test, body) for if and each elif
  Body body;                       // For/SetBlock/Macro/CallBlock/FilterBlock/With: the body
  Body else_body;                  // If/For: else
  Target target;                   // For/Set/SetBlock
  KwArgs params;                   // Macro and CallBlock caller parameters, default expr or null
  std::vector<ExprPtr> filters;    // FilterBlock and SetBlock: Filter nodes applied to the body's output
  std::vector<std::pair<Target, ExprPtr>> assigns;  // With
  bool recursive = false;          // For ... recursive
  // Macro: whether its body names `varargs` / `kwargs`; Jinja2 takes extra positional / keyword arguments
  // only then, and refuses them otherwise.
  bool uses_varargs = false, uses_kwargs = false;
};

// Whether any expression of `body` (statements, their conditions, defaults and filters, nested bodies) is
// the name `name`.
bool body_names(const Body& body, const std::string& name);

}  // namespace arbiter::jinja

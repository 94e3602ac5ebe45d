// Values of the Jinja interpreter, with Python's semantics: what prints how (repr of lists, "None",
// "True", float repr), what is true, what equals what. Chat templates are Jinja2 run by Python, so
// a rendered prompt is only byte-exact if these follow Python, not C++.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace arbiter::jinja {

struct Value;
struct Callable;
using List = std::vector<Value>;

// Python dicts keep insertion order; templates print and serialize them in that order.
struct Dict;

enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Callable };

// What a Dict stands for: a plain mapping, a namespace() (attributes settable by `set ns.x`),
// or the `loop` variable (attributes only, no dict methods).
enum class DictRole { Mapping, Namespace, Loop };

struct Value {
  Kind kind = Kind::Undefined;
  bool is_tuple = false;           // List printed as (a, b) and unequal to a list
  bool is_group = false;           // a (grouper, list) tuple of the groupby filter: also .grouper and .list
  bool boolean = false;
  int64_t integer = 0;
  double number = 0.0;
  std::string text;                // String; for Undefined, the name that was missing (for errors); for a
                                   // Float read from a JSON integer past int64, its digits (printed as such)
  std::shared_ptr<List> list;      // shared: Python lists are references
  std::shared_ptr<Dict> dict;
  std::shared_ptr<Callable> callable;

  static Value undefined(std::string hint = {});
  static Value none();
  static Value from_bool(bool b);
  static Value from_int(int64_t i);
  static Value from_float(double d);
  static Value from_string(std::string s);
  static Value from_list(List items, bool tuple = false);
  static Value new_dict(DictRole role = DictRole::Mapping);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_none() const { return kind == Kind::None; }
  bool is_string() const { return kind == Kind::String; }
  bool is_list() const { return kind == Kind::List; }
  bool is_dict() const { return kind == Kind::Dict; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
  bool is_integral() const { return kind == Kind::Int || kind == Kind::Bool; }
  int64_t as_int() const { return kind == Kind::Bool ? (boolean ? 1 : 0) : integer; }
  double as_double() const { return kind == Kind::Float ? number : static_cast<double>(as_int()); }
};

struct Dict {
  DictRole role = DictRole::Mapping;
  std::vector<std::pair<Value, Value>> items;

  const Value* find(const Value& key) const;
  const Value* find(const std::string& key) const;
  void set(const Value& key, Value value);
  void set(const std::string& key, Value value) { set(Value::from_string(key), std::move(value)); }
};

// Python's truth value (Undefined is false).
bool truthy(const Value& v);
// Python `==` (1 == 1.0 == True; [1] != (1,); dicts ignore order).
bool equals(const Value& a, const Value& b);
// Python ordering for numbers, strings and sequences; false with *ok=false when the types do not order.
int compare(const Value& a, const Value& b, bool* ok);
// Python type name, for error messages: 'str', 'int', 'NoneType', ...
std::string type_name(const Value& v);

// str(v): what {{ v }} prints. Strings as they are, None -> "None", lists as their repr.
std::string to_str(const Value& v);
// repr(v): strings quoted the way Python quotes them.
std::string to_repr(const Value& v);
std::string python_float_repr(double d);

// json.dumps(v, ensure_ascii=False, indent=..., separators=..., sort_keys=...): transformers' tojson.
// Returns false with *error set for values JSON cannot hold (Undefined, callables).
struct JsonDumpOptions {
  int indent = -1;                 // <0: single line
  std::string indent_text;         // used when indent_is_text (indent="\t")
  bool indent_is_text = false;
  std::string item_separator;      // empty: Python's default for the indent mode
  std::string key_separator;
  bool separators_set = false;
  bool sort_keys = false;
  bool ensure_ascii = false;       // every non-ASCII character as \uXXXX (a surrogate pair past the BMP)
};
bool dump_json(const Value& v, const JsonDumpOptions& opts, std::string* out, std::string* error);

Value from_json(const nlohmann::json& j);
Value from_json(const nlohmann::ordered_json& j);

}  // namespace arbiter::jinja

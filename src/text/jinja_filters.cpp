// Jinja2's built-in filters as chat templates use them, with Jinja2 3.1's argument names, defaults
// and results, plus transformers' own tojson (json.dumps with ensure_ascii=False, no HTML escaping).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "text/jinja_interpreter.h"
#include "text/jinja_strings.h"

namespace arbiter::jinja {

namespace {

using FilterFn = Value (*)(Interpreter&, const Value&, CallArgs&);

std::string soft_str(const Value& v) { return to_str(v); }

int64_t int_arg(const Value& v, int64_t def, const char* what) {
  if (v.is_undefined() || v.is_none()) return def;
  if (!v.is_integral()) fail(std::string(what) + " expects an integer, got " + type_name(v));
  return v.as_int();
}

Value length_of(Interpreter&, const Value& v) {
  switch (v.kind) {
    case Kind::String: return Value::from_int(static_cast<int64_t>(utf8_length(v.text)));
    case Kind::List: return Value::from_int(static_cast<int64_t>(v.list->size()));
    case Kind::Dict: return Value::from_int(static_cast<int64_t>(v.dict->items.size()));
    case Kind::Undefined: return Value::from_int(0);
    default: fail("object of type '" + type_name(v) + "' has no len()");
  }
}

Value f_length(Interpreter& in, const Value& v, CallArgs& args) {
  args.bind("length", {});
  return length_of(in, v);
}

Value f_trim(Interpreter&, const Value& v, CallArgs& args) {
  auto a = args.bind("trim", {"chars"});
  std::optional<std::string> chars;
  if (!a[0].is_undefined() && !a[0].is_none()) chars = require_string(a[0], "trim");
  return Value::from_string(py_strip(soft_str(v), chars, true, true));
}

Value f_tojson(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions o;
  o.ensure_ascii = truthy(a[0]);
  if (a[1].is_string()) {
    o.indent_is_text = true;
    o.indent_text = a[1].text;
  } else if (!a[1].is_undefined() && !a[1].is_none()) {
    o.indent = static_cast<int>(std::max<int64_t>(0, int_arg(a[1], 0, "tojson indent")));
  }
  if (a[2].is_list() && a[2].list->size() == 2) {
    o.separators_set = true;
    o.item_separator = require_string((*a[2].list)[0], "tojson separators");
    o.key_separator = require_string((*a[2].list)[1], "tojson separators");
  }
  o.sort_keys = truthy(a[3]);
  std::string out, err;
  if (!dump_json(v, o, &out, &err)) fail("tojson: " + err);
  in.check_size(out.size());
  return Value::from_string(std::move(out));
}

Value f_items(Interpreter& in, const Value& v, CallArgs& args) {
  args.bind("items", {});
  if (v.is_undefined()) return Value::from_list({});
  if (!v.is_dict()) fail("items filter: can only get item pairs from a mapping, got " + type_name(v));
  CallArgs none;
  return call_method(in, v, "items", none);
}

// Jinja's attribute getter for filters: dotted path, each step item-then-attribute, optional default.
Value attribute_of(Interpreter& in, const Value& item, const Value& attribute, const Value& def) {
  Value v = attribute.is_integral() ? in.get_item(item, attribute) : in.get_path(item, require_string(attribute, "attribute"));
  if (v.is_undefined() && !def.is_undefined()) return def;
  return v;
}

// Test call for select/reject: first positional is the test name, the rest its arguments.
bool run_select_test(Interpreter& in, const Value& item, const std::vector<Value>& rest, size_t first) {
  if (rest.size() <= first) return truthy(item);
  CallArgs test_args;
  test_args.positional.assign(rest.begin() + static_cast<std::ptrdiff_t>(first) + 1, rest.end());
  return in.apply_test(require_string(rest[first], "select test name"), item, test_args);
}

Value select_impl(Interpreter& in, const Value& v, CallArgs& args, bool by_attribute, bool keep_matching) {
  if (!args.keyword.empty()) fail("select/reject filters take no keyword arguments");
  if (by_attribute && args.positional.empty()) fail("selectattr/rejectattr need an attribute name");
  List out;
  for (const Value& item : in.iterate(v)) {
    Value subject = by_attribute ? attribute_of(in, item, args.positional[0], Value::undefined()) : item;
    bool match = run_select_test(in, subject, args.positional, by_attribute ? 1 : 0);
    if (match == keep_matching) out.push_back(item);
  }
  return Value::from_list(std::move(out));
}
Value f_select(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, false, true); }
Value f_reject(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, true, false); }

Value f_map(Interpreter& in, const Value& v, CallArgs& args) {
  List out;
  const Value* attribute = nullptr;
  Value def;
  for (const auto& [k, val] : args.keyword) {
    if (k == "attribute") attribute = &val;
    else if (k == "default") def = val;
  }
  if (attribute) {
    for (const Value& item : in.iterate(v)) out.push_back(attribute_of(in, item, *attribute, def));
    return Value::from_list(std::move(out));
  }
  if (args.positional.empty()) fail("map filter needs a filter name or attribute=");
  std::string filter = require_string(args.positional[0], "map filter name");
  CallArgs filter_args;
  filter_args.positional.assign(args.positional.begin() + 1, args.positional.end());
  filter_args.keyword = args.keyword;
  for (const Value& item : in.iterate(v)) {
    CallArgs copy = filter_args;
    out.push_back(in.apply_filter(filter, item, copy));
  }
  return Value::from_list(std::move(out));
}

Value f_join(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("join", {"d", "attribute"});
  std::string sep = a[0].is_undefined() ? "" : soft_str(a[0]);
  std::string out;
  bool first = true;
  for (const Value& item : in.iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += soft_str(a[1].is_undefined() ? item : attribute_of(in, item, a[1], Value::undefined()));
    in.check_size(out.size());
  }
  return Value::from_string(std::move(out));
}

Value f_first(Interpreter& in, const Value& v, CallArgs& args) {
  args.bind("first", {});
  std::vector<Value> items = in.iterate(v);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value f_last(Interpreter& in, const Value& v, CallArgs& args) {
  args.bind("last", {});
  std::vector<Value> items = in.iterate(v);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value f_lower(Interpreter&, const Value& v, CallArgs&) { return Value::from_string(py_lower(soft_str(v))); }
Value f_upper(Interpreter&, const Value& v, CallArgs&) { return Value::from_string(py_upper(soft_str(v))); }
Value f_capitalize(Interpreter&, const Value& v, CallArgs&) { return Value::from_string(py_capitalize(soft_str(v))); }

Value f_title(Interpreter&, const Value& v, CallArgs&) {
  // Jinja splits before runs of "-", whitespace and opening brackets, then capitalizes each piece's
  // first character and lowercases the rest.
  std::vector<uint32_t> cps = utf8_decode(soft_str(v));
  auto is_sep = [](uint32_t c) { return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_isspace(c); };
  std::string out;
  size_t i = 0;
  while (i < cps.size()) {
    size_t j = i;
    bool sep = is_sep(cps[i]);
    while (j < cps.size() && is_sep(cps[j]) == sep) ++j;
    std::vector<uint32_t> piece(cps.begin() + static_cast<std::ptrdiff_t>(i), cps.begin() + static_cast<std::ptrdiff_t>(j));
    if (sep) {
      out += utf8_encode(piece);
    } else {
      out += py_upper(utf8_encode({piece[0]}));
      out += py_lower(utf8_encode(std::vector<uint32_t>(piece.begin() + 1, piece.end())));
    }
    i = j;
  }
  return Value::from_string(out);
}

Value f_replace(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("replace", {"old", "new", "count"});
  std::string r = py_replace(soft_str(v), soft_str(a[0]), soft_str(a[1]), int_arg(a[2], -1, "replace count"));
  in.check_size(r.size());
  return Value::from_string(std::move(r));
}

Value f_default(Interpreter&, const Value& v, CallArgs& args) {
  auto a = args.bind("default", {"default_value", "boolean"});
  bool use_default = v.is_undefined() || (truthy(a[1]) && !truthy(v));
  if (!use_default) return v;
  return a[0].is_undefined() ? Value::from_string("") : a[0];
}

Value f_list(Interpreter& in, const Value& v, CallArgs&) { return Value::from_list(in.iterate(v)); }
Value f_string(Interpreter&, const Value& v, CallArgs&) { return Value::from_string(soft_str(v)); }
Value f_safe(Interpreter&, const Value& v, CallArgs&) { return v.is_string() ? v : Value::from_string(soft_str(v)); }

bool parse_python_int(const std::string& raw, int64_t base, int64_t* out) {
  std::string s = py_strip(raw, std::nullopt, true, true);
  std::string digits;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && std::isalnum(static_cast<unsigned char>(s[i - 1])) &&
        std::isalnum(static_cast<unsigned char>(s[i + 1]))) {
      continue;
    }
    digits += s[i];
  }
  if (digits.empty()) return false;
  size_t start = (digits[0] == '-' || digits[0] == '+') ? 1 : 0;
  if (start == digits.size()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(digits.c_str(), &end, static_cast<int>(base));
  if (errno != 0 || *end != '\0' || std::isspace(static_cast<unsigned char>(digits[start]))) return false;
  *out = v;
  return true;
}

bool parse_python_float(const std::string& raw, double* out) {
  std::string s = py_strip(raw, std::nullopt, true, true);
  if (s.empty()) return false;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (*end != '\0') return false;
  *out = d;
  return true;
}

Value f_int(Interpreter&, const Value& v, CallArgs& args) {
  auto a = args.bind("int", {"default", "base"});
  Value def = a[0].is_undefined() ? Value::from_int(0) : a[0];
  int64_t base = int_arg(a[1], 10, "int base");
  if (v.is_integral()) return Value::from_int(v.as_int());
  // A float past int64 has no int here (Python's is exact and unbounded): an error, not a wrapped value.
  auto truncated = [](double d) {
    const double t = std::trunc(d);
    if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0))
      fail("int: " + python_float_repr(d) + " is past the integers a template holds here (64-bit)");
    return Value::from_int(static_cast<int64_t>(t));
  };
  if (v.kind == Kind::Float) {
    if (!std::isfinite(v.number)) return def;
    return truncated(v.number);
  }
  if (v.is_string()) {
    int64_t i;
    if (parse_python_int(v.text, base, &i)) return Value::from_int(i);
    double d;
    if (parse_python_float(v.text, &d) && std::isfinite(d)) return truncated(d);
  }
  return def;
}

Value f_float(Interpreter&, const Value& v, CallArgs& args) {
  auto a = args.bind("float", {"default"});
  Value def = a[0].is_undefined() ? Value::from_float(0.0) : a[0];
  if (v.is_number()) return Value::from_float(v.as_double());
  double d;
  if (v.is_string() && parse_python_float(v.text, &d)) return Value::from_float(d);
  return def;
}

Value f_abs(Interpreter&, const Value& v, CallArgs&) {
  if (v.kind == Kind::Float) return Value::from_float(std::fabs(v.number));
  if (v.is_integral()) return Value::from_int(std::llabs(v.as_int()));
  if (v.is_undefined()) fail_undefined(v);
  fail("bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_round(Interpreter&, const Value& v, CallArgs& args) {
  auto a = args.bind("round", {"precision", "method"});
  int64_t precision = int_arg(a[0], 0, "round precision");
  std::string method = a[1].is_undefined() ? "common" : require_string(a[1], "round method");
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_number()) fail("round filter expects a number, got " + type_name(v));
  if (method == "common") {
    // Python's round(): integers stay integers, floats round half to even on the exact binary value.
    if (v.is_integral() && precision >= 0) return Value::from_int(v.as_int());
    double x = v.as_double();
    if (precision == 0) return Value::from_float(std::nearbyint(x));
    if (precision < 0 || precision > 300) {
      double scale = std::pow(10.0, static_cast<double>(precision));
      return Value::from_float(std::nearbyint(x * scale) / scale);
    }
    char buf[400];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(precision), x);
    return Value::from_float(std::strtod(buf, nullptr));
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double x = v.as_double() * scale;
  if (method == "ceil") return Value::from_float(std::ceil(x) / scale);
  if (method == "floor") return Value::from_float(std::floor(x) / scale);
  fail("method must be common, ceil or floor");
}

// Sort key with Jinja's case folding for strings.
Value sort_key(Interpreter& in, const Value& item, const Value& attribute, bool case_sensitive) {
  Value k = attribute.is_undefined() || attribute.is_none() ? item : attribute_of(in, item, attribute, Value::undefined());
  if (!case_sensitive && k.is_string()) return Value::from_string(py_lower(k.text));
  return k;
}

bool less_than(const Value& a, const Value& b) {
  bool ok = false;
  int c = compare(a, b, &ok);
  if (!ok) fail("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
  return c < 0;
}

Value f_sort(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("sort", {"reverse", "case_sensitive", "attribute"});
  bool reverse = truthy(a[0]);
  // attribute="a,b.c": Jinja2 sorts by the list of those attributes' values, compared in order.
  std::vector<Value> attributes;
  if (a[2].is_string() && a[2].text.find(',') != std::string::npos) {
    size_t begin = 0;
    for (size_t comma; (comma = a[2].text.find(',', begin)) != std::string::npos; begin = comma + 1)
      attributes.push_back(Value::from_string(a[2].text.substr(begin, comma - begin)));
    attributes.push_back(Value::from_string(a[2].text.substr(begin)));
  }
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : in.iterate(v)) {
    if (attributes.empty()) {
      keyed.emplace_back(sort_key(in, item, a[2], truthy(a[1])), item);
      continue;
    }
    List key;
    for (const Value& attribute : attributes) key.push_back(sort_key(in, item, attribute, truthy(a[1])));
    keyed.emplace_back(Value::from_list(std::move(key)), item);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? less_than(y.first, x.first) : less_than(x.first, y.first);
  });
  List out;
  for (auto& [k, item] : keyed) out.push_back(std::move(item));
  return Value::from_list(std::move(out));
}

Value f_dictsort(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("dictsort", {"case_sensitive", "by", "reverse"});
  if (!v.is_dict()) fail("dictsort expects a mapping, got " + type_name(v));
  std::string by = a[1].is_undefined() ? "key" : require_string(a[1], "dictsort by");
  if (by != "key" && by != "value") fail("You can only sort by either 'key' or 'value'");
  bool case_sensitive = truthy(a[0]);
  bool reverse = truthy(a[2]);
  std::vector<std::pair<Value, Value>> items = v.dict->items;
  auto key = [&](const std::pair<Value, Value>& p) {
    const Value& k = by == "key" ? p.first : p.second;
    return !case_sensitive && k.is_string() ? Value::from_string(py_lower(k.text)) : k;
  };
  std::stable_sort(items.begin(), items.end(), [&](const auto& x, const auto& y) {
    return reverse ? less_than(key(y), key(x)) : less_than(key(x), key(y));
  });
  List out;
  for (auto& [k, val] : items) out.push_back(Value::from_list({k, val}, true));
  return Value::from_list(std::move(out));
}

Value f_unique(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("unique", {"case_sensitive", "attribute"});
  List out, seen;
  for (const Value& item : in.iterate(v)) {
    Value k = sort_key(in, item, a[1], truthy(a[0]));
    bool dup = false;
    for (const Value& s : seen) {
      if (equals(s, k)) dup = true;
    }
    if (dup) continue;
    seen.push_back(k);
    out.push_back(item);
  }
  return Value::from_list(std::move(out));
}

Value min_max(Interpreter& in, const Value& v, CallArgs& args, bool want_max) {
  auto a = args.bind(want_max ? "max" : "min", {"case_sensitive", "attribute"});
  std::vector<Value> items = in.iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = sort_key(in, items[0], a[1], truthy(a[0]));
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = sort_key(in, items[i], a[1], truthy(a[0]));
    if (want_max ? less_than(best_key, k) : less_than(k, best_key)) {
      best = i;
      best_key = k;
    }
  }
  return items[best];
}
Value f_min(Interpreter& in, const Value& v, CallArgs& a) { return min_max(in, v, a, false); }
Value f_max(Interpreter& in, const Value& v, CallArgs& a) { return min_max(in, v, a, true); }

Value f_sum(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("sum", {"attribute", "start"});
  Value total = a[1].is_undefined() ? Value::from_int(0) : a[1];
  for (const Value& item : in.iterate(v)) {
    Value x = a[0].is_undefined() ? item : attribute_of(in, item, a[0], Value::undefined());
    if (!x.is_number() || !total.is_number()) fail("unsupported operand type(s) for +: '" + type_name(total) + "' and '" + type_name(x) + "'");
    if (total.is_integral() && x.is_integral()) total = Value::from_int(total.as_int() + x.as_int());
    else total = Value::from_float(total.as_double() + x.as_double());
  }
  return total;
}

Value f_reverse(Interpreter& in, const Value& v, CallArgs&) {
  if (v.is_string()) {
    std::vector<uint32_t> cps = utf8_decode(v.text);
    std::reverse(cps.begin(), cps.end());
    return Value::from_string(utf8_encode(cps));
  }
  std::vector<Value> items = in.iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::from_list(std::move(items));
}

Value f_escape(Interpreter&, const Value& v, CallArgs&) {
  std::string out;
  for (char c : soft_str(v)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return Value::from_string(out);
}

Value f_indent(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("indent", {"width", "first", "blank"});
  std::string indention = a[0].is_string() ? a[0].text : std::string(static_cast<size_t>(std::max<int64_t>(0, int_arg(a[0], 4, "indent width"))), ' ');
  std::string s = soft_str(v) + "\n";
  std::vector<std::string> lines = py_splitlines(s, false);
  std::string out;
  if (truthy(a[2])) {
    for (size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" + indention : "") + lines[i];
  } else {
    out = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) out += "\n" + (lines[i].empty() ? "" : indention + lines[i]);
  }
  if (truthy(a[1])) out = indention + out;
  in.check_size(out.size());
  return Value::from_string(out);
}

Value f_wordcount(Interpreter&, const Value& v, CallArgs&) {
  int64_t words = 0;
  bool in_word = false;
  for (uint32_t cp : utf8_decode(soft_str(v))) {
    bool word_char = cp == '_' || (cp < 0x80 ? std::isalnum(static_cast<int>(cp)) != 0 : !py_isspace(cp));
    if (word_char && !in_word) ++words;
    in_word = word_char;
  }
  return Value::from_int(words);
}

Value f_batch(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("batch", {"linecount", "fill_with"});
  int64_t n = int_arg(a[0], 0, "batch linecount");
  if (n <= 0) fail("batch linecount must be positive");
  List out, row;
  for (const Value& item : in.iterate(v)) {
    row.push_back(item);
    if (static_cast<int64_t>(row.size()) == n) {
      out.push_back(Value::from_list(std::move(row)));
      row.clear();
    }
  }
  if (!row.empty()) {
    if (!a[1].is_undefined() && !a[1].is_none()) {
      while (static_cast<int64_t>(row.size()) < n) row.push_back(a[1]);
    }
    out.push_back(Value::from_list(std::move(row)));
  }
  return Value::from_list(std::move(out));
}

// Jinja2's groupby: the items sorted by an attribute (case-folded unless case_sensitive) and grouped by
// it, each group a (grouper, list) tuple whose grouper is the first item's own value.
Value f_groupby(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("groupby", {"attribute", "default", "case_sensitive"});
  if (a[0].is_undefined()) fail("groupby() missing required argument 'attribute'");
  const Value fallback = a[1].is_none() ? Value::undefined() : a[1];  // default=None: no default
  const bool case_sensitive = truthy(a[2]);
  std::vector<std::pair<Value, Value>> keyed;  // (key, item)
  for (const Value& item : in.iterate(v)) {
    Value key = attribute_of(in, item, a[0], fallback);
    if (!case_sensitive && key.is_string()) key = Value::from_string(py_lower(key.text));
    keyed.emplace_back(std::move(key), item);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& x, const auto& y) { return less_than(x.first, y.first); });
  List out;
  for (size_t begin = 0, end; begin < keyed.size(); begin = end) {
    List items;
    for (end = begin; end < keyed.size() && equals(keyed[end].first, keyed[begin].first); ++end)
      items.push_back(keyed[end].second);
    Value grouper = case_sensitive ? keyed[begin].first : attribute_of(in, items.front(), a[0], fallback);
    Value group = Value::from_list({std::move(grouper), Value::from_list(std::move(items))}, /*tuple=*/true);
    group.is_group = true;
    out.push_back(std::move(group));
  }
  return Value::from_list(std::move(out));
}

// Jinja2's slice: `slices` columns of as equal a length as can be, the first `length % slices` one item
// longer; `fill_with` pads the shorter ones.
Value f_slice(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("slice", {"slices", "fill_with"});
  if (a[0].is_undefined()) fail("slice() missing required argument 'slices'");
  const int64_t slices = int_arg(a[0], 0, "slice slices");
  if (slices == 0) fail("integer division or modulo by zero");
  const List seq = in.iterate(v);
  List out;
  if (slices < 0) return Value::from_list(std::move(out));  // Python's range(slices) is empty
  const int64_t length = static_cast<int64_t>(seq.size());
  const int64_t per_slice = length / slices, with_extra = length % slices;
  const bool fill = !a[1].is_undefined() && !a[1].is_none();
  int64_t offset = 0;
  for (int64_t k = 0; k < slices; ++k) {
    const int64_t start = offset + k * per_slice;
    if (k < with_extra) ++offset;
    const int64_t end = offset + (k + 1) * per_slice;
    List column(seq.begin() + start, seq.begin() + end);
    if (fill && k >= with_extra) column.push_back(a[1]);
    out.push_back(Value::from_list(std::move(column)));
  }
  return Value::from_list(std::move(out));
}

Value f_center(Interpreter& in, const Value& v, CallArgs& args) {
  auto a = args.bind("center", {"width"});
  CallArgs width;
  width.positional.push_back(a[0].is_undefined() ? Value::from_int(80) : a[0]);
  return call_method(in, Value::from_string(soft_str(v)), "center", width);
}

Value f_truncate(Interpreter&, const Value& v, CallArgs& args) {
  auto a = args.bind("truncate", {"length", "killwords", "end", "leeway"});
  int64_t length = int_arg(a[0], 255, "truncate length");
  std::string end = a[2].is_undefined() ? "..." : require_string(a[2], "truncate end");
  int64_t leeway = int_arg(a[3], 5, "truncate leeway");
  std::vector<uint32_t> s = utf8_decode(soft_str(v));
  int64_t end_len = static_cast<int64_t>(utf8_length(end));
  if (length < end_len) fail("expected length >= " + std::to_string(end_len) + ", got " + std::to_string(length));
  if (leeway < 0) fail("expected leeway >= 0, got " + std::to_string(leeway));
  if (static_cast<int64_t>(s.size()) <= length + leeway) return Value::from_string(utf8_encode(s));
  std::vector<uint32_t> head(s.begin(), s.begin() + (length - end_len));
  if (truthy(a[1])) return Value::from_string(utf8_encode(head) + end);
  std::string h = utf8_encode(head);
  size_t space = h.rfind(' ');
  if (space != std::string::npos) h.resize(space);
  return Value::from_string(h + end);
}

Value f_attr(Interpreter& in, const Value& v, CallArgs& args) {
  // Python getattr only: unlike `.name` in a template, no fallback to the mapping's items.
  auto a = args.bind("attr", {"name"});
  const std::string& name = require_string(a[0], "attr");
  if (v.is_undefined()) fail_undefined(v);
  Value method;
  if (lookup_method(v, name, &method)) return method;
  if (v.is_dict() && v.dict->role != DictRole::Mapping) {
    if (const Value* found = v.dict->find(name)) return *found;
  }
  return Value::undefined("'" + type_name(v) + " object' has no attribute '" + name + "'");
}

// A %s / %r / %c conversion's flags, width and precision applied to its text as Python applies them: in
// characters (code points), not bytes; `0` does not pad text.
std::string pad_text(const std::string& spec, std::string text) {
  bool left = false;
  size_t i = 1;  // past the '%'
  for (; i < spec.size() && std::string("-+ #0").find(spec[i]) != std::string::npos; ++i) left |= spec[i] == '-';
  size_t width = 0;
  for (; i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])); ++i)
    width = std::min<size_t>(width * 10 + size_t(spec[i] - '0'), 1u << 20);
  if (i < spec.size() && spec[i] == '.') {
    size_t precision = 0;
    for (++i; i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])); ++i)
      precision = std::min<size_t>(precision * 10 + size_t(spec[i] - '0'), 1u << 20);
    std::vector<uint32_t> cps = utf8_decode(text);
    if (cps.size() > precision) {
      cps.resize(precision);
      text = utf8_encode(cps);
    }
  }
  const size_t length = utf8_length(text);
  if (length >= width) return text;
  const std::string padding(width - length, ' ');
  return left ? text + padding : padding + text;
}

// printf-style formatting: "%s" % x and the format filter.
Value f_format(Interpreter& in, const Value& v, CallArgs& args) {
  const std::string& fmt = require_string(v, "format");
  const Value* mapping = nullptr;
  if (args.positional.size() == 1 && args.positional[0].is_dict()) mapping = &args.positional[0];
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) fail("incomplete format");
    if (fmt[i] == '%') {
      out += '%';
      continue;
    }
    Value arg;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos || !mapping) fail("format requires a mapping");
      const Value* found = mapping->dict->find(fmt.substr(i + 1, close - i - 1));
      if (!found) fail("format: missing key '" + fmt.substr(i + 1, close - i - 1) + "'");
      arg = *found;
      i = close + 1;
    } else {
      if (next >= args.positional.size()) fail("not enough arguments for format string");
      arg = args.positional[next++];
    }
    std::string spec = "%";
    while (i < fmt.size() && std::string("-+ #0123456789.").find(fmt[i]) != std::string::npos) spec += fmt[i++];
    if (i >= fmt.size()) fail("incomplete format");
    char conv = fmt[i];
    char buf[512];
    if (conv == 's' || conv == 'r') {
      out += pad_text(spec, conv == 's' ? to_str(arg) : to_repr(arg));
    } else if (conv == 'c') {
      std::string c;
      if (arg.is_string()) {
        if (utf8_length(arg.text) != 1) fail("%c requires an int or a unicode character, not a string of length " +
                                             std::to_string(utf8_length(arg.text)));
        c = arg.text;
      } else if (arg.is_integral()) {
        if (arg.as_int() < 0 || arg.as_int() > 0x10FFFF) fail("%c arg not in range(0x110000)");
        utf8_append(static_cast<uint32_t>(arg.as_int()), &c);
      } else {
        fail("%c requires an int or a unicode character, not " + type_name(arg));
      }
      // Python applies a width to %c but no precision.
      const size_t precision = spec.find('.');
      out += pad_text(precision == std::string::npos ? spec : spec.substr(0, precision), c);
    } else if (conv == 'd' || conv == 'i' || conv == 'x' || conv == 'X' || conv == 'o') {
      if (!arg.is_number()) fail("%" + std::string(1, conv) + " format: a real number is required, not " + type_name(arg));
      int64_t n = arg.kind == Kind::Float ? static_cast<int64_t>(std::trunc(arg.number)) : arg.as_int();
      std::snprintf(buf, sizeof(buf), (spec + "ll" + std::string(1, conv == 'i' ? 'd' : conv)).c_str(), static_cast<long long>(n));
      out += buf;
    } else if (conv == 'f' || conv == 'F' || conv == 'e' || conv == 'E' || conv == 'g' || conv == 'G') {
      if (!arg.is_number()) fail("must be real number, not " + type_name(arg));
      std::snprintf(buf, sizeof(buf), (spec + std::string(1, conv)).c_str(), arg.as_double());
      out += buf;
    } else {
      fail(std::string("unsupported format character '") + conv + "'");
    }
    in.check_size(out.size());
  }
  if (!mapping && next < args.positional.size()) fail("not all arguments converted during string formatting");
  return Value::from_string(out);
}

const std::unordered_map<std::string, FilterFn>& filters() {
  static const std::unordered_map<std::string, FilterFn> table = {
      {"abs", f_abs},           {"attr", f_attr},         {"batch", f_batch},       {"capitalize", f_capitalize},
      {"center", f_center},     {"count", f_length},      {"d", f_default},         {"default", f_default},
      {"dictsort", f_dictsort}, {"e", f_escape},          {"escape", f_escape},     {"first", f_first},
      {"float", f_float},       {"format", f_format},     {"groupby", f_groupby},     {"indent", f_indent},     {"int", f_int},
      {"items", f_items},       {"join", f_join},         {"last", f_last},         {"length", f_length},
      {"list", f_list},         {"lower", f_lower},       {"map", f_map},           {"max", f_max},
      {"min", f_min},           {"reject", f_reject},     {"rejectattr", f_rejectattr}, {"replace", f_replace},
      {"reverse", f_reverse},   {"round", f_round},       {"safe", f_safe},         {"select", f_select},
      {"selectattr", f_selectattr}, {"slice", f_slice},   {"sort", f_sort},     {"string", f_string},     {"sum", f_sum},
      {"title", f_title},       {"tojson", f_tojson},     {"trim", f_trim},         {"truncate", f_truncate},
      {"unique", f_unique},     {"upper", f_upper},       {"wordcount", f_wordcount},
  };
  return table;
}

}  // namespace

bool has_filter(const std::string& name) { return filters().count(name) != 0; }

Value run_filter(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args) {
  return filters().at(name)(in, operand, args);
}

}  // namespace arbiter::jinja

// Methods of str, list and dict that templates call (message.content.strip(), tools.items(), ...),
// with Python's results. Mutating methods are refused as transformers' immutable sandbox refuses them.
#include <algorithm>
#include <set>

#include <unicode/uchar.h>

#include "text/jinja_interpreter.h"
#include "text/jinja_strings.h"

namespace arbiter::jinja {

namespace {

const std::set<std::string>& string_methods() {
  static const std::set<std::string> names = {
      "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "upper", "lower",
      "title", "capitalize", "swapcase", "replace", "format", "find", "rfind", "index", "count", "join", "isdigit",
      "isnumeric", "isdecimal", "isalpha", "isalnum", "isspace", "isupper", "islower", "center", "ljust", "rjust",
      "zfill", "removeprefix", "removesuffix", "partition", "rpartition"};
  return names;
}
const std::set<std::string> kListSafe = {"index", "count", "copy"};
const std::set<std::string> kListUnsafe = {"append", "pop", "insert", "extend", "remove", "reverse", "sort", "clear"};
const std::set<std::string> kDictSafe = {"items", "keys", "values", "get", "copy"};
const std::set<std::string> kDictUnsafe = {"update", "pop", "popitem", "setdefault", "clear"};

Value unsafe(const Value& self, const std::string& name) {
  return Value::undefined("access to attribute '" + name + "' of '" + type_name(self) + "' object is unsafe.");
}

std::optional<std::string> opt_string(const Value& v, const char* what) {
  if (v.is_undefined() || v.is_none()) return std::nullopt;
  return require_string(v, what);
}

int64_t opt_int(const Value& v, int64_t def) {
  if (v.is_undefined() || v.is_none()) return def;
  if (!v.is_integral()) fail("an integer is required, got " + type_name(v));
  return v.as_int();
}

bool affix_match(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const std::string& a) {
    if (a.size() > s.size()) return false;
    return prefix ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (affix.is_list() && affix.is_tuple) {
    for (const auto& a : *affix.list) {
      if (one(require_string(a, prefix ? "startswith" : "endswith"))) return true;
    }
    return false;
  }
  return one(require_string(affix, prefix ? "startswith" : "endswith"));
}

template <typename Pred>
bool all_code_points(const std::string& s, Pred pred) {
  std::vector<uint32_t> cps = utf8_decode(s);
  if (cps.empty()) return false;
  return std::all_of(cps.begin(), cps.end(), pred);
}

// Python's str predicates by Unicode property: isdecimal is Numeric_Type=Decimal (category Nd), isdigit
// adds Digit ('²'), isnumeric adds Numeric ('½', '三'); isalpha is a letter category (L*).
bool py_is_number(uint32_t c, int widest) {
  const int type = u_getIntPropertyValue(UChar32(c), UCHAR_NUMERIC_TYPE);
  return type != U_NT_NONE && type <= widest;
}

bool py_is_alpha(uint32_t c) {
  switch (u_charType(UChar32(c))) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER: return true;
    default: return false;
  }
}

Value string_list(const std::vector<std::string>& parts) {
  List items;
  for (const auto& p : parts) items.push_back(Value::from_string(p));
  return Value::from_list(std::move(items));
}

std::string pad(const std::string& s, int64_t width, const std::string& fill, int where /* -1 left, 0 center, 1 right */) {
  int64_t len = static_cast<int64_t>(utf8_length(s));
  if (width <= len) return s;
  int64_t total = width - len;
  int64_t left = where < 0 ? 0 : where > 0 ? total : total / 2 + (total & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = 0; i < total - left; ++i) out += fill;
  return out;
}

// str.format: {} {0} {name} {name.attr} {name[key]}, !r / !s conversions; format specs beyond none are refused.
std::string format_braces(Interpreter& in, const std::string& fmt, CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}' ) {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      else fail("Single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    size_t close = fmt.find('}', i);
    if (close == std::string::npos) fail("Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    char conversion = 0;
    size_t colon = field.find(':');
    std::string spec = colon == std::string::npos ? "" : field.substr(colon + 1);
    if (colon != std::string::npos) field.resize(colon);
    size_t bang = field.find('!');
    if (bang != std::string::npos) {
      conversion = bang + 1 < field.size() ? field[bang + 1] : 0;
      field.resize(bang);
    }
    size_t name_end = field.find_first_of(".[");
    std::string head = field.substr(0, name_end);
    Value v;
    if (head.empty()) {
      if (auto_index >= args.positional.size()) fail("Replacement index " + std::to_string(auto_index) + " out of range");
      v = args.positional[auto_index++];
    } else if (head.find_first_not_of("0123456789") == std::string::npos) {
      size_t k = std::stoul(head);
      if (k >= args.positional.size()) fail("Replacement index " + head + " out of range");
      v = args.positional[k];
    } else {
      bool found = false;
      for (const auto& [key, val] : args.keyword) {
        if (key == head) {
          v = val;
          found = true;
        }
      }
      if (!found) fail("format(): missing key '" + head + "'");
    }
    if (name_end != std::string::npos) {
      std::string rest = field.substr(name_end);
      for (size_t p = 0; p < rest.size();) {
        if (rest[p] == '.') {
          size_t e = rest.find_first_of(".[", p + 1);
          v = in.get_attr(v, rest.substr(p + 1, e == std::string::npos ? std::string::npos : e - p - 1));
          p = e == std::string::npos ? rest.size() : e;
        } else {
          size_t e = rest.find(']', p);
          if (e == std::string::npos) fail("Missing ']' in format string");
          std::string key = rest.substr(p + 1, e - p - 1);
          bool digits = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
          v = in.get_item(v, digits ? Value::from_int(std::stoll(key)) : Value::from_string(key));
          p = e + 1;
        }
      }
    }
    if (!spec.empty()) fail("format specification '" + spec + "' is not supported in str.format");
    out += conversion == 'r' ? to_repr(v) : to_str(v);
  }
  return out;
}

}  // namespace

bool lookup_method(const Value& self, const std::string& name, Value* out) {
  if (self.is_string() && string_methods().count(name)) {
    *out = make_method(self, name);
    return true;
  }
  if (self.is_list()) {
    if (kListSafe.count(name)) {
      *out = make_method(self, name);
      return true;
    }
    if (kListUnsafe.count(name)) {
      *out = unsafe(self, name);
      return true;
    }
  }
  if (self.is_dict() && self.dict->role == DictRole::Mapping) {
    if (kDictSafe.count(name)) {
      *out = make_method(self, name);
      return true;
    }
    if (kDictUnsafe.count(name)) {
      *out = unsafe(self, name);
      return true;
    }
  }
  return false;
}

Value call_method(Interpreter& in, const Value& self, const std::string& name, CallArgs& args) {
  auto bind = [&](std::vector<std::string> names) { return args.bind(type_name(self) + "." + name, names); };
  if (self.is_dict()) {
    const Dict& d = *self.dict;
    if (name == "items" || name == "keys" || name == "values") {
      bind({});
      List out;
      for (const auto& [k, v] : d.items) {
        if (name == "items") out.push_back(Value::from_list({k, v}, true));
        else out.push_back(name == "keys" ? k : v);
      }
      return Value::from_list(std::move(out));
    }
    if (name == "get") {
      auto a = bind({"key", "default"});
      const Value* v = d.find(a[0]);
      if (v) return *v;
      return a[1].is_undefined() ? Value::none() : a[1];
    }
    if (name == "copy") {
      Value c = Value::new_dict();
      c.dict->items = d.items;
      return c;
    }
  }
  if (self.is_list()) {
    const List& l = *self.list;
    if (name == "copy") return Value::from_list(l, self.is_tuple);
    auto a = bind({"value"});
    int64_t count = 0;
    for (size_t i = 0; i < l.size(); ++i) {
      if (!equals(l[i], a[0])) continue;
      if (name == "index") return Value::from_int(static_cast<int64_t>(i));
      ++count;
    }
    if (name == "index") fail(to_repr(a[0]) + " is not in list");
    return Value::from_int(count);
  }
  if (!self.is_string()) fail("'" + type_name(self) + "' object has no method '" + name + "'");
  const std::string& s = self.text;
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    auto a = bind({"chars"});
    return Value::from_string(py_strip(s, opt_string(a[0], name.c_str()), name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    auto a = bind({"sep", "maxsplit"});
    auto sep = opt_string(a[0], "split");
    if (sep && sep->empty()) fail("empty separator");
    int64_t maxsplit = opt_int(a[1], -1);
    return string_list(name == "split" ? py_split(s, sep, maxsplit) : py_rsplit(s, sep, maxsplit));
  }
  if (name == "splitlines") {
    auto a = bind({"keepends"});
    return string_list(py_splitlines(s, truthy(a[0])));
  }
  if (name == "startswith" || name == "endswith") {
    auto a = bind({"prefix"});
    return Value::from_bool(affix_match(s, a[0], name == "startswith"));
  }
  if (name == "upper") return Value::from_string(py_upper(s));
  if (name == "lower") return Value::from_string(py_lower(s));
  if (name == "title") return Value::from_string(py_title(s));
  if (name == "capitalize") return Value::from_string(py_capitalize(s));
  if (name == "swapcase") {
    std::string out;
    for (uint32_t cp : utf8_decode(s)) {
      std::string ch;
      utf8_append(cp, &ch);
      std::string up = py_upper(ch);
      out += up != ch ? up : py_lower(ch);
    }
    return Value::from_string(out);
  }
  if (name == "replace") {
    auto a = bind({"old", "new", "count"});
    std::string r = py_replace(s, require_string(a[0], "replace"), require_string(a[1], "replace"), opt_int(a[2], -1));
    in.check_size(r.size());
    return Value::from_string(std::move(r));
  }
  if (name == "format") return Value::from_string(format_braces(in, s, args));
  if (name == "find" || name == "index" || name == "rfind") {
    auto a = bind({"sub"});
    const std::string& sub = require_string(a[0], name.c_str());
    int64_t pos;
    if (name == "rfind") {
      size_t hit = s.rfind(sub);
      pos = hit == std::string::npos ? -1 : static_cast<int64_t>(utf8_length(s.substr(0, hit)));
    } else {
      pos = py_find(s, sub);
    }
    if (pos < 0 && name == "index") fail("substring not found");
    return Value::from_int(pos);
  }
  if (name == "count") {
    auto a = bind({"sub"});
    return Value::from_int(py_count(s, require_string(a[0], "count")));
  }
  if (name == "join") {
    auto a = bind({"iterable"});
    std::string out;
    bool first = true;
    for (const Value& item : in.iterate(a[0])) {
      if (!item.is_string()) fail("sequence item: expected str instance, " + type_name(item) + " found");
      if (!first) out += s;
      first = false;
      out += item.text;
      in.check_size(out.size());
    }
    return Value::from_string(std::move(out));
  }
  if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") {
    const int widest = name == "isdecimal" ? U_NT_DECIMAL : name == "isdigit" ? U_NT_DIGIT : U_NT_NUMERIC;
    return Value::from_bool(all_code_points(s, [widest](uint32_t c) { return py_is_number(c, widest); }));
  }
  if (name == "isalpha" || name == "isalnum") {
    const bool alnum = name == "isalnum";
    return Value::from_bool(
        all_code_points(s, [alnum](uint32_t c) { return py_is_alpha(c) || (alnum && py_is_number(c, U_NT_NUMERIC)); }));
  }
  if (name == "isspace") return Value::from_bool(all_code_points(s, py_isspace));
  if (name == "isupper" || name == "islower") {
    bool want_upper = name == "isupper";
    bool any_cased = false, ok = true;
    for (uint32_t cp : utf8_decode(s)) {
      std::string ch = utf8_encode({cp});
      std::string up = py_upper(ch), low = py_lower(ch);
      if (up == low) continue;
      any_cased = true;
      if ((want_upper && ch != up) || (!want_upper && ch != low)) ok = false;
    }
    return Value::from_bool(any_cased && ok);
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    auto a = bind({"width", "fillchar"});
    std::string fill = a[1].is_undefined() ? " " : require_string(a[1], name.c_str());
    int64_t width = opt_int(a[0], 0);
    in.check_size(static_cast<size_t>(std::max<int64_t>(0, width)));
    return Value::from_string(pad(s, width, fill, name == "center" ? 0 : name == "ljust" ? -1 : 1));
  }
  if (name == "zfill") {
    auto a = bind({"width"});
    int64_t width = opt_int(a[0], 0);
    in.check_size(static_cast<size_t>(std::max<int64_t>(0, width)));
    int64_t len = static_cast<int64_t>(utf8_length(s));
    if (width <= len) return self;
    bool sign = !s.empty() && (s[0] == '-' || s[0] == '+');
    std::string zeros(static_cast<size_t>(width - len), '0');
    return Value::from_string(sign ? s.substr(0, 1) + zeros + s.substr(1) : zeros + s);
  }
  if (name == "removeprefix" || name == "removesuffix") {
    auto a = bind({"affix"});
    const std::string& affix = require_string(a[0], name.c_str());
    if (name == "removeprefix" && s.compare(0, affix.size(), affix) == 0) return Value::from_string(s.substr(affix.size()));
    if (name == "removesuffix" && affix.size() <= s.size() && s.compare(s.size() - affix.size(), affix.size(), affix) == 0) {
      return Value::from_string(s.substr(0, s.size() - affix.size()));
    }
    return self;
  }
  if (name == "partition" || name == "rpartition") {
    auto a = bind({"sep"});
    const std::string& sep = require_string(a[0], name.c_str());
    if (sep.empty()) fail("empty separator");
    size_t hit = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (hit == std::string::npos) {
      return name == "partition"
                 ? Value::from_list({self, Value::from_string(""), Value::from_string("")}, true)
                 : Value::from_list({Value::from_string(""), Value::from_string(""), self}, true);
    }
    return Value::from_list({Value::from_string(s.substr(0, hit)), Value::from_string(sep),
                             Value::from_string(s.substr(hit + sep.size()))},
                            true);
  }
  fail("'str' object has no method '" + name + "'");
}

}  // namespace arbiter::jinja

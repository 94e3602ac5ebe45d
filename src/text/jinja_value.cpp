#include "text/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include <unicode/uchar.h>

namespace arbiter::jinja {

Value Value::undefined(std::string hint) {
  Value v;
  v.text = std::move(hint);
  return v;
}
Value Value::none() {
  Value v;
  v.kind = Kind::None;
  return v;
}
Value Value::from_bool(bool b) {
  Value v;
  v.kind = Kind::Bool;
  v.boolean = b;
  return v;
}
Value Value::from_int(int64_t i) {
  Value v;
  v.kind = Kind::Int;
  v.integer = i;
  return v;
}
Value Value::from_float(double d) {
  Value v;
  v.kind = Kind::Float;
  v.number = d;
  return v;
}
Value Value::from_string(std::string s) {
  Value v;
  v.kind = Kind::String;
  v.text = std::move(s);
  return v;
}
Value Value::from_list(List items, bool tuple) {
  Value v;
  v.kind = Kind::List;
  v.is_tuple = tuple;
  v.list = std::make_shared<List>(std::move(items));
  return v;
}
Value Value::new_dict(DictRole role) {
  Value v;
  v.kind = Kind::Dict;
  v.dict = std::make_shared<Dict>();
  v.dict->role = role;
  return v;
}

const Value* Dict::find(const Value& key) const {
  for (const auto& [k, v] : items) {
    if (equals(k, key)) return &v;
  }
  return nullptr;
}

const Value* Dict::find(const std::string& key) const {
  for (const auto& [k, v] : items) {
    if (k.kind == Kind::String && k.text == key) return &v;
  }
  return nullptr;
}

void Dict::set(const Value& key, Value value) {
  for (auto& [k, v] : items) {
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(key, std::move(value));
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool: return v.boolean;
    case Kind::Int: return v.integer != 0;
    case Kind::Float: return v.number != 0.0;
    case Kind::String: return !v.text.empty();
    case Kind::List: return !v.list->empty();
    case Kind::Dict: return v.dict->role != DictRole::Mapping || !v.dict->items.empty();
    case Kind::Callable: return true;
  }
  return false;
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() == b.as_int();
    return a.as_double() == b.as_double();
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::Undefined:
    case Kind::None: return true;
    case Kind::String: return a.text == b.text;
    case Kind::List: {
      if (a.is_tuple != b.is_tuple || a.list->size() != b.list->size()) return false;
      for (size_t i = 0; i < a.list->size(); ++i) {
        if (!equals((*a.list)[i], (*b.list)[i])) return false;
      }
      return true;
    }
    case Kind::Dict: {
      if (a.dict == b.dict) return true;
      if (a.dict->role != DictRole::Mapping || b.dict->role != DictRole::Mapping) return false;
      if (a.dict->items.size() != b.dict->items.size()) return false;
      for (const auto& [k, v] : a.dict->items) {
        const Value* other = b.dict->find(k);
        if (!other || !equals(v, *other)) return false;
      }
      return true;
    }
    case Kind::Callable: return a.callable == b.callable;
    default: return false;
  }
}

int compare(const Value& a, const Value& b, bool* ok) {
  *ok = true;
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
    double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    // UTF-8 byte order is code point order, which is Python's string order.
    int c = a.text.compare(b.text);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list() && a.is_tuple == b.is_tuple) {
    size_t n = std::min(a.list->size(), b.list->size());
    for (size_t i = 0; i < n; ++i) {
      if (equals((*a.list)[i], (*b.list)[i])) continue;
      return compare((*a.list)[i], (*b.list)[i], ok);
    }
    return a.list->size() < b.list->size() ? -1 : (a.list->size() > b.list->size() ? 1 : 0);
  }
  *ok = false;
  return 0;
}

std::string type_name(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return v.is_tuple ? "tuple" : "list";
    case Kind::Dict:
      return v.dict->role == DictRole::Mapping ? "dict" : (v.dict->role == DictRole::Namespace ? "Namespace" : "LoopContext");
    case Kind::Callable: return "function";
  }
  return "object";
}

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0.0) return std::signbit(d) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then Python's layout: fixed for 1e-4 <= |d| < 1e16, else d.ddde+XX.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e_pos = sci.find('e');
  std::string mantissa = sci.substr(0, e_pos);
  int exponent = std::stoi(sci.substr(e_pos + 1));
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
      out += digits + std::string(static_cast<size_t>(exponent) + 1 - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(exponent) + 1) + "." + digits.substr(static_cast<size_t>(exponent) + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp_buf;
}

namespace {

// Decodes one UTF-8 code point at s[i]; advances i. Invalid bytes come back as themselves.
uint32_t next_code_point(const std::string& s, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
  if (extra <= 0 || i + static_cast<size_t>(extra) >= s.size()) {
    ++i;
    return c;
  }
  uint32_t cp = c & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) cp = (cp << 6) | (byte(i + k) & 0x3F);
  i += static_cast<size_t>(extra) + 1;
  return cp;
}

// Python's str.isprintable() for one code point: not a control, format, surrogate, private-use or
// unassigned character, nor a separator other than the ASCII space (a no-break space, a zero-width space
// and a byte-order mark are escaped in a repr).
static bool python_printable(uint32_t cp) {
  if (cp == ' ') return true;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_CONTROL_CHAR: case U_FORMAT_CHAR: case U_SURROGATE: case U_PRIVATE_USE_CHAR: case U_UNASSIGNED:
    case U_SPACE_SEPARATOR: case U_LINE_SEPARATOR: case U_PARAGRAPH_SEPARATOR:
      return false;
    default:
      return true;
  }
}

std::string repr_string(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    uint32_t cp = next_code_point(s, i);
    char buf[16];
    if (cp == static_cast<uint32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!python_printable(cp)) {
      // Python's repr: \xhh below 0x100, \uhhhh below 0x10000, \Uhhhhhhhh above.
      if (cp < 0x100) std::snprintf(buf, sizeof(buf), "\\x%02x", cp);
      else if (cp < 0x10000) std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      else std::snprintf(buf, sizeof(buf), "\\U%08x", cp);
      out += buf;
    } else {
      out.append(s, start, i - start);
    }
  }
  out += quote;
  return out;
}

std::string repr_inner(const Value& v, bool top_level_str) {
  switch (v.kind) {
    case Kind::Undefined: return top_level_str ? "" : "Undefined";
    case Kind::None: return "None";
    case Kind::Bool: return v.boolean ? "True" : "False";
    case Kind::Int: return std::to_string(v.integer);
    case Kind::Float: return v.text.empty() ? python_float_repr(v.number) : v.text;
    case Kind::String: return top_level_str ? v.text : repr_string(v.text);
    case Kind::List: {
      std::string out = v.is_tuple ? "(" : "[";
      for (size_t i = 0; i < v.list->size(); ++i) {
        if (i) out += ", ";
        out += repr_inner((*v.list)[i], false);
      }
      if (v.is_tuple && v.list->size() == 1) out += ",";
      out += v.is_tuple ? ")" : "]";
      return out;
    }
    case Kind::Dict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, val] : v.dict->items) {
        if (!first) out += ", ";
        first = false;
        out += repr_inner(k, false) + ": " + repr_inner(val, false);
      }
      out += "}";
      if (v.dict->role == DictRole::Namespace) return "<Namespace " + out + ">";
      if (v.dict->role == DictRole::Loop) return "<LoopContext>";
      return out;
    }
    case Kind::Callable: return "<function>";
  }
  return "";
}

void json_string(const std::string& s, std::string* out, bool ensure_ascii = false) {
  *out += '"';
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (ensure_ascii && c >= 0x80) {
      // json.dumps(ensure_ascii=True): \uXXXX, a code point past the BMP as its UTF-16 surrogate pair.
      uint32_t cp = next_code_point(s, i);
      char buf[16];
      if (cp >= 0x10000) {
        cp -= 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
      } else {
        std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      }
      *out += buf;
      continue;
    }
    const char ch = s[i++];
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          *out += buf;
        } else {
          *out += ch;
        }
    }
  }
  *out += '"';
}

bool json_key(const Value& k, std::string* key, std::string* error) {
  switch (k.kind) {
    case Kind::String: *key = k.text; return true;
    case Kind::Int: *key = std::to_string(k.integer); return true;
    case Kind::Bool: *key = k.boolean ? "true" : "false"; return true;
    case Kind::None: *key = "null"; return true;
    case Kind::Float: *key = k.text.empty() ? python_float_repr(k.number) : k.text; return true;
    default: *error = "keys must be str, int, float, bool or None, not " + type_name(k); return false;
  }
}

bool dump_inner(const Value& v, const JsonDumpOptions& o, int depth, std::string* out, std::string* error) {
  if (depth > 512) {
    *error = "tojson: value nested too deeply";
    return false;
  }
  bool pretty = o.indent >= 0 || o.indent_is_text;
  std::string item_sep = o.separators_set ? o.item_separator : (pretty ? "," : ", ");
  std::string key_sep = o.separators_set ? o.key_separator : ": ";
  auto newline = [&](int level) {
    *out += '\n';
    for (int i = 0; i < level; ++i) *out += o.indent_is_text ? o.indent_text : std::string(static_cast<size_t>(o.indent), ' ');
  };
  switch (v.kind) {
    case Kind::None: *out += "null"; return true;
    case Kind::Bool: *out += v.boolean ? "true" : "false"; return true;
    case Kind::Int: *out += std::to_string(v.integer); return true;
    case Kind::Float:
      if (std::isnan(v.number)) *out += "NaN";
      else if (std::isinf(v.number)) *out += v.number > 0 ? "Infinity" : "-Infinity";
      else *out += v.text.empty() ? python_float_repr(v.number) : v.text;
      return true;
    case Kind::String: json_string(v.text, out, o.ensure_ascii); return true;
    case Kind::List: {
      if (v.list->empty()) {
        *out += "[]";
        return true;
      }
      *out += '[';
      for (size_t i = 0; i < v.list->size(); ++i) {
        if (i) *out += item_sep;
        if (pretty) newline(depth + 1);
        if (!dump_inner((*v.list)[i], o, depth + 1, out, error)) return false;
      }
      if (pretty) newline(depth);
      *out += ']';
      return true;
    }
    case Kind::Dict: {
      if (v.dict->role == DictRole::Loop) break;
      if (v.dict->items.empty()) {
        *out += "{}";
        return true;
      }
      std::vector<std::pair<std::string, const Value*>> entries;
      for (const auto& [k, val] : v.dict->items) {
        std::string key;
        if (!json_key(k, &key, error)) return false;
        entries.emplace_back(std::move(key), &val);
      }
      if (o.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      *out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) *out += item_sep;
        if (pretty) newline(depth + 1);
        json_string(entries[i].first, out, o.ensure_ascii);
        *out += key_sep;
        if (!dump_inner(*entries[i].second, o, depth + 1, out, error)) return false;
      }
      if (pretty) newline(depth);
      *out += '}';
      return true;
    }
    default: break;
  }
  *error = "Object of type " + type_name(v) + " is not JSON serializable";
  return false;
}

template <typename Json>
Value convert_json(const Json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return Value::none();
    case nlohmann::json::value_t::boolean: return Value::from_bool(j.template get<bool>());
    case nlohmann::json::value_t::number_integer: return Value::from_int(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.template get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) {
        // Past int64, held as a float that keeps its digits: printed and serialized as Python prints the
        // integer (a tool call's argument 18446744073709551615 stays that), computed with as a float.
        Value big = Value::from_float(static_cast<double>(u));
        big.text = std::to_string(u);
        return big;
      }
      return Value::from_int(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float: return Value::from_float(j.template get<double>());
    case nlohmann::json::value_t::string: return Value::from_string(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      List items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(convert_json(e));
      return Value::from_list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Value d = Value::new_dict();
      d.dict->items.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) {
        d.dict->items.emplace_back(Value::from_string(it.key()), convert_json(it.value()));
      }
      return d;
    }
    default: return Value::none();
  }
}

}  // namespace

std::string to_str(const Value& v) { return repr_inner(v, true); }
std::string to_repr(const Value& v) { return repr_inner(v, false); }

bool dump_json(const Value& v, const JsonDumpOptions& opts, std::string* out, std::string* error) {
  return dump_inner(v, opts, 0, out, error);
}

Value from_json(const nlohmann::json& j) { return convert_json(j); }
Value from_json(const nlohmann::ordered_json& j) { return convert_json(j); }

}  // namespace arbiter::jinja

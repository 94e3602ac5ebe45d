// Global functions a chat template can call: Jinja's range/namespace/dict/joiner/cycler and the two transformers adds
// (raise_exception, strftime_now).
#include <cmath>
#include <ctime>

#include "text/jinja_interpreter.h"

namespace arbiter::jinja {

namespace {

// Jinja's sandbox refuses larger ranges (MAX_RANGE), which also keeps loops over them bounded.
constexpr int64_t kMaxRange = 100000;

Value range_fn(Interpreter&, CallArgs& args) {
  if (!args.keyword.empty()) fail("range() takes no keyword arguments");
  std::vector<int64_t> p;
  for (const Value& v : args.positional) {
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_integral()) fail(std::string(1, '\'').append(type_name(v)).append("' object cannot be interpreted as an integer"));
    p.push_back(v.as_int());
  }
  if (p.empty() || p.size() > 3) fail("range expected 1 to 3 arguments, got " + std::to_string(p.size()));
  int64_t start = p.size() == 1 ? 0 : p[0];
  int64_t stop = p.size() == 1 ? p[0] : p[1];
  int64_t step = p.size() == 3 ? p[2] : 1;
  if (step == 0) fail("range() arg 3 must not be zero");
  // Counted in 128 bits, and each item computed from its index, so that bounds near the int64 limits
  // neither overflow nor loop forever.
  const __int128 span = step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
  const __int128 stride = step > 0 ? static_cast<__int128>(step) : -static_cast<__int128>(step);
  const __int128 count = span <= 0 ? 0 : (span + stride - 1) / stride;
  if (count > kMaxRange) {
    fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE (" + std::to_string(kMaxRange) + ").");
  }
  List items;
  for (__int128 k = 0; k < count; ++k) items.push_back(Value::from_int(static_cast<int64_t>(start + k * step)));
  return Value::from_list(std::move(items));
}

Value dict_from_args(CallArgs& args, DictRole role, const char* what) {
  Value d = Value::new_dict(role);
  if (args.positional.size() > 1) fail(std::string(what) + "() expected at most 1 positional argument");
  if (!args.positional.empty()) {
    const Value& src = args.positional[0];
    if (src.is_dict()) {
      d.dict->items = src.dict->items;
    } else if (src.is_list()) {
      for (const Value& pair : *src.list) {
        if (!pair.is_list() || pair.list->size() != 2) fail(std::string(what) + "(): sequence elements must be pairs");
        d.dict->set((*pair.list)[0], (*pair.list)[1]);
      }
    } else {
      fail(std::string(what) + "(): cannot build a mapping from " + type_name(src));
    }
  }
  for (const auto& [k, v] : args.keyword) d.dict->set(k, v);
  return d;
}

// Jinja2's joiner(sep=", "): a function that returns "" the first time it is called and `sep` after.
Value joiner_fn(Interpreter&, CallArgs& args) {
  auto a = args.bind("joiner", {"sep"});
  const Value sep = a[0].is_undefined() ? Value::from_string(", ") : a[0];  // returned as given, of any type
  auto used = std::make_shared<bool>(false);
  return make_builtin("joiner", [sep, used](Interpreter&, CallArgs& call) {
    call.bind("joiner", {});
    if (!*used) {
      *used = true;
      return Value::from_string("");
    }
    return sep;
  });
}

// Jinja2's cycler(*items): `current` is the item next() will return; next() returns it and moves on,
// reset() goes back to the first. The object is a namespace whose `current` the methods rewrite; they
// hold it weakly, as it holds them.
Value cycler_fn(Interpreter&, CallArgs& args) {
  if (!args.keyword.empty()) fail("cycler() got an unexpected keyword argument '" + args.keyword[0].first + "'");
  if (args.positional.empty()) fail("at least one item has to be provided");
  auto items = std::make_shared<List>(args.positional);
  auto position = std::make_shared<size_t>(0);
  Value object = Value::new_dict(DictRole::Namespace);
  std::weak_ptr<Dict> self = object.dict;
  object.dict->set("current", items->front());
  object.dict->set("next", make_builtin("cycler.next", [items, position, self](Interpreter&, CallArgs& call) {
    call.bind("next", {});
    Value item = (*items)[*position];
    *position = (*position + 1) % items->size();
    if (auto dict = self.lock()) dict->set("current", (*items)[*position]);
    return item;
  }));
  object.dict->set("reset", make_builtin("cycler.reset", [items, position, self](Interpreter&, CallArgs& call) {
    call.bind("reset", {});
    *position = 0;
    if (auto dict = self.lock()) dict->set("current", items->front());
    return Value::none();
  }));
  return object;
}

}  // namespace

void add_global_functions(Scope* globals) {
  globals->vars["joiner"] = make_builtin("joiner", joiner_fn);
  globals->vars["cycler"] = make_builtin("cycler", cycler_fn);
  globals->vars["range"] = make_builtin("range", range_fn);
  globals->vars["namespace"] = make_builtin("namespace", [](Interpreter&, CallArgs& args) {
    return dict_from_args(args, DictRole::Namespace, "namespace");
  });
  globals->vars["dict"] = make_builtin("dict", [](Interpreter&, CallArgs& args) {
    return dict_from_args(args, DictRole::Mapping, "dict");
  });
  globals->vars["raise_exception"] = make_builtin("raise_exception", [](Interpreter&, CallArgs& args) -> Value {
    fail(args.positional.empty() ? std::string("raise_exception called") : to_str(args.positional[0]));
  });
  globals->vars["strftime_now"] = make_builtin("strftime_now", [](Interpreter& in, CallArgs& args) {
    auto a = args.bind("strftime_now", {"format"});
    const std::string& fmt = require_string(a[0], "strftime_now");
    std::time_t t = in.now();
    std::tm local{};
    localtime_r(&t, &local);
    char buf[512];
    size_t n = std::strftime(buf, sizeof(buf), fmt.c_str(), &local);
    return Value::from_string(std::string(buf, n));
  });
}

}  // namespace arbiter::jinja

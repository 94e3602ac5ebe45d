#include "core/run_settings.h"

#include <filesystem>
#include <set>

#include "core/fnv1a.h"
#include "core/mapped_file.h"

namespace arbiter {

namespace fs = std::filesystem;

namespace {

// FNV-1a of a regular file of at most 64 MiB that `value` names, "" for anything else.
std::string small_file_digest(const std::string& value) {
  std::error_code ec;
  if (value.empty() || !fs::is_regular_file(value, ec) || fs::file_size(value, ec) > (uintmax_t(64) << 20)) return "";
  const Result<std::string> bytes = read_file(value);
  return bytes.is_ok() ? fnv1a64_hex(*bytes) : "";
}

std::string quoted(const std::string& text) {
  std::string out = "'";
  out += text;
  out += '\'';
  return out;
}

std::string show(const nlohmann::json* value) {
  if (value == nullptr) return "not given";
  return quoted(value->is_string() ? value->get<std::string>() : value->dump());
}

// A setting as it is compared: a value naming a file whose contents the side kept stands for the contents.
nlohmann::json comparable(const nlohmann::json& value, const nlohmann::json& contents) {
  auto one = [&](const nlohmann::json& v) -> nlohmann::json {
    if (v.is_string() && contents.is_object() && contents.contains(v.get<std::string>()) &&
        contents[v.get<std::string>()].is_string())
      return "file with contents " + contents[v.get<std::string>()].get<std::string>();
    return v;
  };
  if (!value.is_array()) return one(value);
  nlohmann::json out = nlohmann::json::array();
  for (const nlohmann::json& v : value) out.push_back(one(v));
  return out;
}

bool names_kept_file(const nlohmann::json& value, const nlohmann::json& contents) {
  return value.is_string() && contents.contains(value.get<std::string>()) && contents[value.get<std::string>()].is_string();
}

}  // namespace

nlohmann::ordered_json RunSettings::to_json() const {
  return nlohmann::ordered_json{{"settings", settings}, {"file_contents", file_contents}};
}

RunSettings RunSettings::from_json(const nlohmann::json& doc) {
  RunSettings out;
  if (!doc.is_object()) return out;
  if (doc.contains("settings") && doc["settings"].is_object()) out.settings = doc["settings"];
  out.kept_contents = doc.contains("file_contents") && doc["file_contents"].is_object();
  if (out.kept_contents) out.file_contents = doc["file_contents"];
  return out;
}

RunSettings RunSettings::only(const std::vector<std::string>& options) const {
  RunSettings out;
  for (const std::string& option : options) {
    if (!settings.contains(option)) continue;
    const nlohmann::ordered_json& value = settings[option];
    out.settings[option] = value;
    const nlohmann::ordered_json values = value.is_array() ? value : nlohmann::ordered_json::array({value});
    for (const auto& v : values)
      if (v.is_string() && file_contents.contains(v.get<std::string>()))
        out.file_contents[v.get<std::string>()] = file_contents[v.get<std::string>()];
  }
  return out;
}

void add_setting(RunSettings& into, const std::string& option, const std::vector<std::string>& values) {
  if (values.size() == 1) into.settings[option] = values.front();
  else into.settings[option] = values;
  for (const std::string& value : values)
    if (const std::string digest = small_file_digest(value); !digest.empty()) into.file_contents[value] = digest;
}

std::vector<std::string> describe_setting_differences(const RunSettings& then, const RunSettings& now,
                                                      const std::string& then_label, const std::string& now_label) {
  const nlohmann::json then_settings(then.settings), now_settings(now.settings);
  // Files are compared by contents only where both sides kept them.
  const bool by_contents = then.kept_contents && now.kept_contents;
  const nlohmann::json then_contents = by_contents ? nlohmann::json(then.file_contents) : nlohmann::json::object();
  const nlohmann::json now_contents = by_contents ? nlohmann::json(now.file_contents) : nlohmann::json::object();
  std::set<std::string> keys;
  for (const auto& [key, value] : then_settings.items()) keys.insert(key);
  for (const auto& [key, value] : now_settings.items()) keys.insert(key);
  std::vector<std::string> out;
  for (const std::string& key : keys) {
    const nlohmann::json* a = then_settings.contains(key) ? &then_settings.at(key) : nullptr;
    const nlohmann::json* b = now_settings.contains(key) ? &now_settings.at(key) : nullptr;
    if (a != nullptr && b != nullptr && comparable(*a, then_contents) == comparable(*b, now_contents)) continue;
    // The same path whose file changed: say so, rather than print one path twice.
    if (a != nullptr && b != nullptr && *a == *b && (names_kept_file(*a, then_contents) || names_kept_file(*b, now_contents))) {
      auto digest = [](const nlohmann::json& contents, const std::string& path) {
        return contents.contains(path) && contents[path].is_string() ? quoted(contents[path].get<std::string>()) : std::string("no file");
      };
      const std::string path = a->get<std::string>();
      out.push_back(key + ": contents of " + path + " differ (" + digest(then_contents, path) + " " + then_label + ", " +
                    digest(now_contents, path) + " " + now_label + ")");
      continue;
    }
    out.push_back(key + ": " + show(a) + " " + then_label + ", " + show(b) + " " + now_label);
  }
  return out;
}

}  // namespace arbiter

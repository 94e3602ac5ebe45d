// The options that decided an output, as its provenance keeps them (a run record, a features file, a
// head): `settings` maps each option as given to its value ({"--template": "direct-helpfulness",
// "--field": ["prompt=q", "response=a"]}) and `file_contents` maps each value that names a file to an
// FNV-1a of its bytes ({"./judge.jinja": "9c1e..."}), since a file named by an option is only as fixed as
// its contents.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace arbiter {

struct RunSettings {
  nlohmann::ordered_json settings = nlohmann::ordered_json::object();
  nlohmann::ordered_json file_contents = nlohmann::ordered_json::object();
  // False for provenance written before file contents were kept: its files are compared by path.
  bool kept_contents = true;

  // {"settings": {...}, "file_contents": {...}}, and back; a document that is not an object of two objects
  // reads as no settings at all (provenance written before settings were kept).
  nlohmann::ordered_json to_json() const;
  static RunSettings from_json(const nlohmann::json& doc);

  // Only the options named (those that decide one thing, e.g. how a sequence is formatted), with the
  // contents of the files they name.
  RunSettings only(const std::vector<std::string>& options) const;
};

// Records `value` of `option` in `into`, with the FNV-1a of the file it names when it names a regular file
// of at most 64 MiB.
void add_setting(RunSettings& into, const std::string& option, const std::vector<std::string>& values);

// Each difference between two runs' settings, "--template: 'a' then, 'b' now" (or "not given"). A value that
// names a file is compared by the file's contents where both sides kept them, not by the path: the same
// template as ./t.jinja then and /abs/t.jinja now (another node's copy) is the same setting, and an edited
// file at the same path is another ("contents of ./t.jinja: ...").
// `then_label` and `now_label` name the two sides in the text.
std::vector<std::string> describe_setting_differences(const RunSettings& then, const RunSettings& now,
                                                      const std::string& then_label = "then",
                                                      const std::string& now_label = "now");

}  // namespace arbiter

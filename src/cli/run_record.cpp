#include "cli/run_record.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <optional>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/log.h"
#include "core/mapped_file.h"
#include "core/version.h"
#include "data/json_rows.h"
#include "model/fingerprint.h"
#include "model/model_path.h"
#include "runtime/cpu/matmul.h"

namespace arbiter::cli {

namespace fs = std::filesystem;

namespace {

// Options that do not change what a run writes, only where it reads and writes, how much of it, on what.
bool is_setting(const CLI::Option& option) {
  for (const char* name : {"--model", "--input", "--output", "--resume", "--limit", "--shard", "--on-error", "--device",
                           "--batch-tokens", "--checkpoint-rows", "--help"})
    if (option.check_name(name)) return false;
  return true;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// A record's string field; a field that is absent or of another type (an edited record) reads as `otherwise`.
template <class Json>
std::string string_field(const Json& doc, const char* key, const std::string& otherwise) {
  return doc.contains(key) && doc[key].is_string() ? doc[key].template get<std::string>() : otherwise;
}

std::string given(const CLI::App& sub, const char* name) {
  const CLI::Option* option = sub.get_option_no_throw(name);
  return option != nullptr && option->count() > 0 ? option->results().front() : "";
}

// One commit as a string; several (a folder's files pulled at different commits of a branch) as a list.
nlohmann::ordered_json commits_json(const std::set<std::string>& commits) {
  if (commits.size() == 1) return *commits.begin();
  return nlohmann::ordered_json(std::vector<std::string>(commits.begin(), commits.end()));
}

}  // namespace

std::string run_record_path(const std::string& output) {
  const std::string suffix = ".jsonl";
  if (output.size() > suffix.size() && output.compare(output.size() - suffix.size(), suffix.size(), suffix) == 0)
    return output.substr(0, output.size() - suffix.size()) + ".run.json";
  return output + ".run.json";
}

namespace {

// One spelling for each value an option may be given in several: a number option's value as the shortest
// text of its double (1, 1.0 and 1e0 are one setting), and a JSON option's object as nlohmann writes it
// (whitespace and key order aside). Other values stay as given: a label "1" is not the label "1.0".
std::string canonical_value(const CLI::Option& option, const std::string& value) {
  for (const char* json_option : {"--chat-template-kwargs", "--attribute-weights"}) {
    if (!option.check_name(json_option) || value.empty() || (value.front() != '{' && value.front() != '[')) continue;
    const nlohmann::json parsed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
    return parsed.is_discarded() ? value : parsed.dump();
  }
  const std::string type = option.get_type_name();
  if (type.rfind("FLOAT", 0) != 0 && type.rfind("INT", 0) != 0 && type.rfind("UINT", 0) != 0) return value;
  double number = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc() || end != value.data() + value.size()) return value;
  char text[32];
  const auto [written, wec] = std::to_chars(text, text + sizeof text, number);
  return wec == std::errc() ? std::string(text, written) : value;
}

}  // namespace

RunSettings option_settings(const CLI::App& sub) {
  RunSettings out;
  for (const CLI::Option* option : sub.get_options()) {
    if (option->count() == 0 || !is_setting(*option)) continue;
    std::vector<std::string> values;
    for (const std::string& value : option->results()) values.push_back(canonical_value(*option, value));
    // A default given explicitly is the same setting as one left out (--layer final, --template generic).
    const std::string default_value = canonical_value(*option, option->get_default_str());
    if (values.size() == 1 && !option->get_default_str().empty() && values.front() == default_value) continue;
    add_setting(out, option->get_name(), values);
  }
  add_setting(out, kTextFormattingSetting, {kTextFormattingRevision});
  return out;
}

nlohmann::ordered_json make_run_record(const CLI::App& sub, const Model& model, const std::string& device,
                                       const PulledCommits& pulled) {
  const RunSettings settings = option_settings(sub);
  nlohmann::ordered_json record;
  record["arbiter"] = kArbiterVersion;
  record["command"] = sub.get_name();
  record["started"] = utc_now();
  record["model"] = given(sub, "--model");
  if (!pulled.model.empty()) record["model_commit"] = commits_json(pulled.model);
  record["model_fingerprint"] = model_fingerprint(model);
  record["input"] = given(sub, "--input");
  if (!pulled.input.empty()) record["input_commit"] = commits_json(pulled.input);
  record["settings"] = settings.settings;
  record["file_contents"] = settings.file_contents;
  // The model's own chat template, where it formats the rows (a --chat-template file is among the files
  // above), its tokenizer files and its configuration: an edit of any changes every line as much as other
  // weights would, and the weights' fingerprint does not see it.
  const bool own_template = given(sub, "--chat-template").empty() && sub.get_option_no_throw("--plain") != nullptr &&
                            sub.get_option_no_throw("--plain")->count() == 0;
  const ModelDigests digests = model_digests(model, own_template);
  if (!digests.chat_template.empty()) record["model_chat_template"] = digests.chat_template;
  if (!digests.tokenizer.empty()) record["model_tokenizer"] = digests.tokenizer;
  record["model_config"] = digests.config;
  // The arithmetic of the products: the CPU's for the model's weights (--cpu-matmul, and what the CPU
  // offers), a GPU's bf16.
  const DType weights = model.layers.empty() ? DType::F32 : model.layers.front().w_up.dtype;
  record["ran_on"] = {{"device", device},
                      {"matmul", device.rfind("cpu", 0) == 0 ? matmul_precision_name(effective_matmul_precision(weights)) : "bf16"}};
  return record;
}

Result<bool> check_run_record(const std::string& output, bool resume, const nlohmann::ordered_json& record) {
  const std::string path = run_record_path(output);
  std::error_code ec;
  if (resume && fs::exists(output, ec) && fs::file_size(output, ec) > 0) {
    if (fs::exists(path, ec)) {
      ARB_ASSIGN(const std::string text, read_file(path));
      const nlohmann::json then = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (then.is_discarded() || !then.is_object())
        return error(path + ": not a run record (malformed JSON); move it away to resume " + output + " unchecked");
      std::vector<std::string> differences;
      const std::string command_then = string_field(then, "command", ""), command_now = string_field(record, "command", "");
      if (command_then != command_now)
        differences.push_back("command: '" + command_then + "' then, '" + command_now + "' now");
      const std::string weights_then = string_field(then, "model_fingerprint", "");
      const std::string weights_now = string_field(record, "model_fingerprint", "");
      if (weights_then != weights_now)
        differences.push_back("model: other weights (" + string_field(then, "model", "?") + ", fingerprint " +
                              (weights_then.empty() ? "none" : weights_then) + " then; " +
                              string_field(record, "model", "?") + ", " + weights_now + " now)");
      for (std::string& d : describe_setting_differences(RunSettings::from_json(then), RunSettings::from_json(record)))
        differences.push_back(std::move(d));
      // Records written before these digests were kept say nothing of them.
      auto digests_of = [](const auto& doc) {
        return ModelDigests{string_field(doc, "model_chat_template", ""), string_field(doc, "model_tokenizer", ""),
                            string_field(doc, "model_config", "")};
      };
      for (std::string& d : describe_digest_differences(digests_of(then), digests_of(record)))
        differences.push_back(std::move(d));
      if (differences.empty()) {
        const bool has_ran_on = then.contains("ran_on") && then["ran_on"].is_object();
        if (has_ran_on && nlohmann::json(then["ran_on"]) != nlohmann::json(record["ran_on"]))
          log_warn(output + " was begun on " + then["ran_on"].dump() + " and continues on " + record["ran_on"].dump() +
                   ": its later lines' scores are computed in other arithmetic (bf16 against f32 products, another "
                   "device) and may differ from what the first run would have written, by the arithmetic's rounding "
                   "(well past the last digits on an untrained model); rerun it whole where the file must be one "
                   "run's");
        return false;
      }
      std::string message = output + " was begun by another run than this one (" + path + "):";
      for (const std::string& d : differences) message += "\n  " + d;
      return error(message + "\nresume with the same model and options, or write a new file");
    }
    log_warn(output + " has no run record (" + path + "): the model and options of the run that began it cannot be "
             "checked; this run's are recorded");
  }
  return true;
}

Status write_run_record(const std::string& output, const nlohmann::ordered_json& record) {
  return write_file_atomically(run_record_path(output), record.dump(2) + "\n");
}

Status keep_run_record(RunOptions& run, nlohmann::ordered_json record) {
  // An output that is not a file (/dev/stdout, a pipe) has nothing to keep a record beside.
  if (run.output.empty() || is_stream_path(run.output)) return Status::ok();
  // The record's name is the output's with .run.json: it must not be a file the run reads.
  const std::string record_path = run_record_path(run.output);
  if (data::reads_file(run.input, record_path) || model_reads_file(record.value("model", ""), record_path))
    return error(record_path + ", where the run record of --output " + run.output + " is kept, is a file this run "
                 "reads: name the output otherwise");
  ARB_ASSIGN(const bool to_write, check_run_record(run.output, run.resume, record));
  if (to_write) {
    run.on_output_opened = [output = run.output, record = std::move(record)]() { return write_run_record(output, record); };
  }
  return Status::ok();
}

std::optional<nlohmann::ordered_json> read_run_record(const std::string& scored_path) {
  std::error_code ec;
  if (!fs::exists(run_record_path(scored_path), ec)) return std::nullopt;
  const Result<std::string> text = read_file(run_record_path(scored_path));
  if (!text.is_ok()) return std::nullopt;
  nlohmann::ordered_json record = nlohmann::ordered_json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded() || !record.is_object()) return std::nullopt;
  return record;
}

Result<std::optional<std::string>> scoring_run_id_field(const std::string& scored) {
  ARB_ASSIGN(const std::vector<std::string> files, data::files_named_by(scored));
  std::optional<std::string> found;
  std::string found_in;
  for (const std::string& file : files) {
    const std::optional<nlohmann::ordered_json> record = read_run_record(file);
    if (!record || !record->contains("settings") || !(*record)["settings"].is_object()) continue;
    std::string name = "id";
    const nlohmann::ordered_json fields = (*record)["settings"].value("--field", nlohmann::ordered_json());
    for (const auto& field : fields.is_array() ? fields : nlohmann::ordered_json::array({fields}))
      if (field.is_string() && field.get<std::string>().rfind("id=", 0) == 0) name = field.get<std::string>().substr(3);
    if (found && *found != name)
      return error(run_record_path(file) + ": its run took row ids from '" + name + "', and " + run_record_path(found_in) +
                   "'s from '" + *found + "': the files are not of one scoring run");
    found = name;
    found_in = file;
  }
  return found;
}

Result<std::string> dataset_id_field(const std::string& scored, const std::string& command) {
  ARB_ASSIGN(const std::optional<std::string> recorded, scoring_run_id_field(scored));
  if (!recorded) {
    log_warn(scored + " has no run record (a file joined with cat has none; " + command + " reads a pattern of "
             "--shard outputs with theirs): --data's rows are found by their 'id' field; if the scoring run took "
             "ids from another (--field id=NAME), give it here too");
    return std::string("id");
  }
  if (*recorded != "id")
    log_info("--data's rows are found by field '" + *recorded + "', where the scoring run took ids (its run record)");
  return *recorded;
}

std::string describe_run_record(const nlohmann::ordered_json& record) {
  auto field = [&](const char* key) { return string_field(record, key, "?"); };
  const std::string commit = string_field(record, "model_commit", "");
  std::string note = "scored by " + field("command") + ": " + field("model") +
                     (commit.empty() ? "" : " at commit " + commit.substr(0, 12)) + " (fingerprint " +
                     field("model_fingerprint") + ")";
  if (record.contains("settings") && record["settings"].is_object())
    for (const auto& [option, value] : record["settings"].items())
      note += (note.back() == ')' ? "; " : ", ") + option + " " + (value.is_string() ? value.get<std::string>() : value.dump());
  return note;
}

void attach_run_record(eval::Report& report, const std::string& scored_path) {
  const std::optional<nlohmann::ordered_json> record = read_run_record(scored_path);
  if (!record) return;
  report.notes.push_back(describe_run_record(*record));
  report.data["run_record"] = nlohmann::json(*record);
}

Status save_eval_report(eval::Report report, const std::string& dir, const std::string& scored_path) {
  attach_run_record(report, scored_path);
  ARB_TRY(eval::write_report(report, dir));
  std::fprintf(stderr, "report written to %s/report.html\n", dir.c_str());
  return Status::ok();
}

}  // namespace arbiter::cli

#include "cli/model_source.h"

#include "core/ascii.h"
#include "core/log.h"
#include "fetch/fetch.h"
#include "fetch/hf_dataset.h"
#include "fetch/hf_model.h"

namespace arbiter::cli {

namespace {

bool is_download_source(const std::string& model) {
  const std::string lower = ascii_lower(model.substr(0, 8));
  return lower.rfind("hf://", 0) == 0 || lower.rfind("http://", 0) == 0 || lower.rfind("https://", 0) == 0;
}

}  // namespace

std::string served_note(const std::set<std::string>& commits) {
  if (commits.empty()) return "";
  std::string note;
  for (const std::string& commit : commits) note += (note.empty() ? "" : ", ") + commit;
  return std::string(commits.size() == 1 ? " (commit " : " (commits ") + note + ")";
}

Status pull_model_source(std::string& model, std::set<std::string>* commits) {
  if (!is_download_source(model)) return Status::ok();
  fetch::FetchOptions options;
  fetch::apply_environment(options);
  std::set<std::string> served;
  options.served_commits = &served;
  std::string local;
  if (fetch::is_hf_model_repository(model)) {
    ARB_ASSIGN(local, fetch::fetch_hf_model(model, options));
  } else if (fetch::is_hf_model_pattern(model)) {
    ARB_ASSIGN(local, fetch::fetch_hf_model_pattern(model, options));
  } else {
    ARB_ASSIGN(const std::vector<fetch::FetchResult> files, fetch::fetch_with_split_files(model, options));
    local = files.front().path;
  }
  log_info(model + " is " + local + served_note(served));
  model = local;
  if (commits) *commits = std::move(served);
  return Status::ok();
}

Status pull_data_source(std::string& dataset, std::set<std::string>* commits) {
  if (!is_download_source(dataset)) return Status::ok();
  fetch::FetchOptions options;
  fetch::apply_environment(options);
  std::set<std::string> served;
  options.served_commits = &served;
  std::string local;
  if (fetch::is_hf_dataset_selection(dataset)) {
    ARB_ASSIGN(local, fetch::fetch_hf_dataset(dataset, options));
  } else {
    ARB_ASSIGN(const fetch::FetchResult file, fetch::fetch(dataset, options));
    local = file.path;
  }
  log_info(dataset + " is " + local + served_note(served));
  dataset = local;
  if (commits) *commits = std::move(served);
  return Status::ok();
}

}  // namespace arbiter::cli

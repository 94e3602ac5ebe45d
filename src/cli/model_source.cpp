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

Status pull_model_source(std::string& model) {
  if (!is_download_source(model)) return Status::ok();
  fetch::FetchOptions options;
  fetch::apply_environment(options);
  std::string local;
  if (fetch::is_hf_model_repository(model)) {
    ARB_ASSIGN(local, fetch::fetch_hf_model(model, options));
  } else if (fetch::is_hf_model_pattern(model)) {
    ARB_ASSIGN(local, fetch::fetch_hf_model_pattern(model, options));
  } else {
    ARB_ASSIGN(const std::vector<fetch::FetchResult> files, fetch::fetch_with_split_files(model, options));
    local = files.front().path;
  }
  log_info(model + " is " + local);
  model = local;
  return Status::ok();
}

Status pull_data_source(std::string& dataset) {
  if (!is_download_source(dataset)) return Status::ok();
  fetch::FetchOptions options;
  fetch::apply_environment(options);
  std::string local;
  if (fetch::is_hf_dataset_selection(dataset)) {
    ARB_ASSIGN(local, fetch::fetch_hf_dataset(dataset, options));
  } else {
    ARB_ASSIGN(const fetch::FetchResult file, fetch::fetch(dataset, options));
    local = file.path;
  }
  log_info(dataset + " is " + local);
  dataset = local;
  return Status::ok();
}

}  // namespace arbiter::cli

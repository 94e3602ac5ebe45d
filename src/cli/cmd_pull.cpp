// arbiter pull: download a model or dataset file into the cache (resumable, verified) and print its path.
#include <cstdio>
#include <memory>
#include <set>
#include <vector>

#include "cli/command.h"
#include "cli/option_checks.h"
#include "cli/model_source.h"
#include "core/log.h"
#include "fetch/fetch.h"
#include "fetch/hf_dataset.h"
#include "fetch/hf_model.h"

namespace arbiter::cli {

namespace {

struct PullArgs {
  std::string source;
  fetch::FetchOptions options;
};

Status run_pull(PullArgs& args) {
  fetch::apply_environment(args.options);
  std::set<std::string> served;
  args.options.served_commits = &served;
  if (fetch::is_hf_model_repository(args.source)) {
    ARB_ASSIGN(const std::string folder, fetch::fetch_hf_model(args.source, args.options));
    log_info("model: " + folder + served_note(served));
    std::printf("%s\n", folder.c_str());
    return Status::ok();
  }
  if (fetch::is_hf_dataset_selection(args.source)) {
    // A pattern when the selection is several files: quoted, it is what -i takes.
    ARB_ASSIGN(const std::string local, fetch::fetch_hf_dataset(args.source, args.options));
    log_info("dataset: " + local + served_note(served));
    std::printf("%s\n", local.c_str());
    return Status::ok();
  }
  if (fetch::is_hf_model_pattern(args.source)) {
    ARB_ASSIGN(const std::string first, fetch::fetch_hf_model_pattern(args.source, args.options));
    log_info("model: " + first + served_note(served));
    std::printf("%s\n", first.c_str());
    return Status::ok();
  }
  ARB_ASSIGN(std::vector<fetch::FetchResult> files, fetch::fetch_with_split_files(args.source, args.options));
  for (const fetch::FetchResult& r : files) {
    if (r.cache_hit) log_info("cached: " + r.url);
    else log_info("downloaded " + std::to_string(r.bytes_downloaded) + " bytes from " + r.url);
    log_info("sha256 " + r.sha256 + "  " + r.path + (r.server_sha256.empty() ? "" : "  (the server's record)") +
             (r.repo_commit.empty() ? "" : "  commit " + r.repo_commit));
  }
  // stdout carries only the path (a split model's first file, which opens it), so that
  // MODEL=$(arbiter pull ...) works.
  std::printf("%s\n", files.front().path.c_str());
  return Status::ok();
}

const CommandRegistration kPullRegistration({
    "pull",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<PullArgs>();
      sub.add_option("source", args->source,
                     "http(s) URL, hf://ORG/REPO[@REVISION]/FILE, hf://datasets/ORG/REPO[@REVISION]/FILE, "
                     "hf://ORG/REPO[@REVISION] (a model repository's config, safetensors and tokenizer files as one "
                     "folder; or its one GGUF model, when it has no config.json), hf://ORG/REPO[@REVISION]/PATTERN "
                     "(the GGUF model whose file matches, case-insensitively: '*q4_k_m*.gguf'), or "
                     "hf://datasets/ORG/REPO[@REVISION][/FOLDER/ or /PATTERN] (a dataset's files, listed by the Hub: "
                     "the repository's one set of data files, or those matching data/train-*.parquet)")
          ->required();
      sub.add_option("--sha256", args->options.expected_sha256,
                     "expected SHA-256 (hex): a mismatching download is deleted and the command fails")
          ->check(non_empty());
      sub.add_option("-o,--out", args->options.out_path,
                     "also put the file here (hard link to the cache entry, else a copy); for a model repository, a "
                     "GGUF release or pattern, or a dataset selection, the folder (a GGUF model: or its file name)");
      sub.add_option("--cache-dir", args->options.cache_dir,
                     "cache directory (default: $ARBITER_CACHE, $XDG_CACHE_HOME/arbiter or ~/.cache/arbiter)");
      sub.add_option("--connect-timeout", args->options.connect_timeout_s, "seconds to wait for a connection")
          ->capture_default_str()
          ->check(positive_number());
      sub.add_option("--stall-timeout", args->options.stall_timeout_s, "give up when no byte arrives for this many seconds")
          ->capture_default_str()
          ->check(positive_number());
      sub.add_option("--attempts", args->options.max_attempts, "transfers in all; a dropped connection is resumed")
          ->capture_default_str()
          ->check(CLI::Range(1, 1000));
      sub.footer(
          "Prints the local path on stdout. A split GGUF's first file (NAME-00001-of-00003.gguf) brings the\n"
          "others beside it (--sha256 then checks the first). HF_TOKEN is sent (as a Bearer token) to huggingface.co only;\n"
          "HF_ENDPOINT names a mirror for hf:// sources.");
      return [args] { return run_pull(*args); };
    },
    "download a model or dataset file (http(s) or hf://) into the cache, resumable and SHA-256 checked",
    5,
});

}  // namespace

}  // namespace arbiter::cli

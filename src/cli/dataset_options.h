// The options every dataset-processing command (score, judge, features) shares, and their setup.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/model_source.h"
#include "core/status.h"
#include "score/dataset_runner.h"
#include "score/formatter.h"

namespace arbiter::cli {

struct DatasetArgs {
  std::string model_path, input, output, schema = "auto", on_error = "fail", truncation = "prompt-left";
  std::string chat_template_file, chat_template_kwargs, device = "cpu";
  std::vector<std::string> fields;
  bool resume = false, plain = false;
  int64_t max_length = 0, limit = 0;
  int64_t batch_tokens = 0;  // 0: the backend's preferred size
  std::string shard;  // "K/N"
  PulledCommits pulled;  // where -m / -i were download sources: the commits they were served at
};

void add_dataset_options(CLI::App& sub, DatasetArgs& args);

// A chat template file named on the command line: its text; an empty (or blank) one is an error naming
// it, never a fallback to the model's own template.
Result<std::string> read_chat_template_file(const std::string& path);
// --shard K/N (score, judge, features): one of N processes sharing a dataset.
void add_shard_option(CLI::App& sub, DatasetArgs& args);

// Reader, writer and batching options from the arguments.
Result<RunOptions> make_run_options(const DatasetArgs& args, const std::string& progress_label);
Result<FormatterOptions> make_formatter_options(const DatasetArgs& args);
// The model's formatter; none (null) for a model that has no tokenizer at all (a model made for token
// ids), whose rows of ids still run and whose rows of text are each an error, with a warning saying so.
// A tokenizer that is there but cannot be read is an error.
Result<std::shared_ptr<ConversationFormatter>> make_formatter(const Model& model, const FormatterOptions& options);

// One line on stderr: rows, failures, tokens/s.
void print_run_summary(const RunSummary& summary, const std::string& output);

}  // namespace arbiter::cli

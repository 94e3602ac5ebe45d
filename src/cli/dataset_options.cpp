#include "cli/option_checks.h"
#include "cli/dataset_options.h"

#include <cstdio>

#include "cli/device_option.h"
#include "core/log.h"
#include "core/mapped_file.h"
#include "data/json_rows.h"
#include "data/schema.h"
#include "model/model_path.h"
#include "model/model_tokenizer.h"

namespace arbiter::cli {

void add_dataset_options(CLI::App& sub, DatasetArgs& a) {
  sub.add_option("-m,--model", a.model_path, "GGUF file or Hugging Face model directory, or one to download: hf://ORG/REPO, hf://ORG/REPO/FILE.gguf, https://...")->required()->check(non_empty());
  add_device_option(sub, a.device);
  sub.add_option("-i,--input", a.input, "dataset: JSONL, JSON array (either may be .gz), or Parquet; a quoted pattern ('train-*.parquet') reads every match; hf://datasets/ORG/REPO/FILE or https://... is pulled first")->required()->check(non_empty());
  sub.add_option("-o,--output", a.output, "output JSONL, one line per input row")->required()->check(non_empty());
  sub.add_option("--schema", a.schema,
                 "auto, helpsteer2, helpsteer2-preference, rewardbench, generic, input_ids, steps, math-shepherd, prm800k")
      ->default_val("auto")->check(non_empty());
  sub.add_option("--field", a.fields, "NAME=FIELD mapping for generic rows (prompt, response, id, labels)");
  sub.add_flag("--resume", a.resume, "keep the rows already in --output and append the rest");
  sub.add_option("--on-error", a.on_error, "a bad row: fail (stop) or skip (an error line in its place)")
      ->default_val("fail");
  sub.add_option("--max-length", a.max_length, "maximum tokens per sequence (default: the model's context length)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  sub.add_option("--truncation", a.truncation, "prompt-left (keep the response), right, or error")
      ->default_val("prompt-left");
  sub.add_option("--chat-template", a.chat_template_file, "a Jinja chat template file to use instead of the model's")->check(non_empty());
  sub.add_option("--chat-template-kwargs", a.chat_template_kwargs,
                 "JSON object of extra chat template variables, e.g. '{\"enable_thinking\": false}' (Qwen3)")->check(non_empty());
  sub.add_flag("--plain", a.plain, "ignore the chat template: plain 'User: ... Assistant: ...' text");
  sub.add_option("--batch-tokens", a.batch_tokens,
                 "tokens computed per forward pass (a prefix its sequences share counts once; 0, the default: 4096 "
                 "on the CPU, 16384 on a GPU)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 30));
  sub.add_option("--limit", a.limit, "only the first N rows")->check(CLI::Range(int64_t(1), int64_t(1) << 62));
}

void add_shard_option(CLI::App& sub, DatasetArgs& a) {
  sub.add_option("--shard", a.shard,
                 "K/N: only rows K, K+N, K+2N, ... (K from 0 to N-1), so that N processes (one per GPU or machine) "
                 "share a dataset; each writes its own --output (JSONL lines that concatenate; features files that "
                 "train head reads together through a quoted pattern)")->check(non_empty());
}

namespace {

// "K/N" with 0 <= K < N.
Status parse_shard(const std::string& text, int64_t& shard, int64_t& shards) {
  const size_t slash = text.find('/');
  auto number = [](const std::string& digits, int64_t& value) {
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
    value = std::stoll(digits);
    return true;
  };
  if (slash == std::string::npos || !number(text.substr(0, slash), shard) || !number(text.substr(slash + 1), shards) ||
      shards < 1)
    return error("--shard '" + text + "': expected K/N, e.g. 0/4 for the first of four processes");
  if (shard >= shards)
    return error("--shard '" + text + "': K counts from 0 to " + std::to_string(shards - 1));
  return Status::ok();
}

}  // namespace

Result<RunOptions> make_run_options(const DatasetArgs& a, const std::string& progress_label) {
  RunOptions o;
  o.input = a.input;
  o.output = a.output;
  o.resume = a.resume;
  ARB_ASSIGN(o.on_error, parse_on_error(a.on_error));
  ARB_ASSIGN(o.reader.schema, data::parse_schema_name(a.schema));
  ARB_ASSIGN(o.reader.mapping, data::FieldMapping::parse(a.fields));
  if (a.batch_tokens < 0) return error("--batch-tokens must be positive (or 0: the device's default)");
  o.max_batch_tokens = a.batch_tokens;  // 0: the backend's
  o.limit = a.limit;
  if (!a.shard.empty()) ARB_TRY(parse_shard(a.shard, o.shard, o.shards));
  o.progress_label = progress_label;
  if (model_reads_file(a.model_path, a.output))
    return error("--output " + a.output + " is a file of the model " + a.model_path + ": writing it would replace the model");
  if (data::reads_file(a.input, a.output)) return error("--output " + a.output + " is the --input file: it would be overwritten while it is read");
  return o;
}

Result<std::shared_ptr<ConversationFormatter>> make_formatter(const Model& model, const FormatterOptions& options) {
  if (describe_text_assets(model).tokenizer_kind.empty()) {
    log_warn(model.path + " has no tokenizer (tokenizer.json or tokenizer.model): rows of token ids (input_ids) "
             "run, held to --max-length as --truncation says; rows of text are errors");
    return ConversationFormatter::for_token_ids(model, options);
  }
  return ConversationFormatter::create(model, options);
}

Result<FormatterOptions> make_formatter_options(const DatasetArgs& a) {
  FormatterOptions f;
  f.max_length = a.max_length;
  ARB_ASSIGN(f.truncation, parse_truncation(a.truncation));
  f.plain = a.plain;
  if (!a.chat_template_file.empty()) {
    ARB_ASSIGN(f.chat_template_source, read_chat_template_file(a.chat_template_file));
  }
  if (!a.chat_template_kwargs.empty()) {
    ARB_ASSIGN(f.template_kwargs, parse_template_kwargs(a.chat_template_kwargs));
  }
  return f;
}

void print_run_summary(const RunSummary& s, const std::string& output) {
  if (s.rows_truncated > 0) {
    std::string cut = std::to_string(s.rows_truncated) + " rows were longer than the length limit (--max-length) and cut";
    if (s.rows_response_end_cut > 0)
      cut += "; in " + std::to_string(s.rows_response_end_cut) +
             " of them a response's own end went, so their scores were read before the response ends";
    log_warn(cut + (output.ends_with(".safetensors") ? "" : " (truncated_tokens in their lines)"));
  }
  // --quiet is errors only: the summary then speaks only of rows that failed.
  if (log_level() < LogLevel::kInfo && s.rows_failed == 0) return;
  // Shared prefixes computed once make the computed count the smaller one; both are worth knowing.
  std::string computed;
  if (s.computed_tokens > 0 && s.computed_tokens < s.tokens)
    computed = "; " + std::to_string(s.computed_tokens) + " computed, shared prefixes once";
  std::fprintf(stderr, "%lld rows written to %s (%lld already there, %lld failed), %lld tokens in %.1f s (%.0f tokens/s%s)\n",
               (long long)s.rows_written, output.c_str(), (long long)s.rows_skipped_done, (long long)s.rows_failed,
               (long long)s.tokens, s.seconds, s.seconds > 0 ? double(s.tokens) / s.seconds : 0.0, computed.c_str());
}

Result<std::string> read_chat_template_file(const std::string& path) {
  ARB_ASSIGN(std::string text, read_file(path));
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    return error(path + ": an empty chat template (it would render nothing)");
  return text;
}

}  // namespace arbiter::cli

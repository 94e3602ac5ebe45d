// arbiter convert: a Hugging Face model directory -> one self-contained GGUF file (or a split one).
#include <cstdio>
#include <map>

#include "cli/command.h"
#include "cli/model_source.h"
#include "convert/convert.h"
#include "convert/quant_plan.h"
#include "convert/split_plan.h"

namespace arbiter::cli {

// Shared with cmd_quantize.cpp: one line per output type, and each tensor whose type was changed.
void print_convert_report(const ConvertReport& report, const std::string& out_path) {
  std::map<std::string, int64_t> counts;
  for (const WrittenTensor& t : report.tensors) counts[dtype_name(t.dtype)] += 1;
  const std::string written = report.files.size() > 1 ? report.files.front() + " ... " + report.files.back() + " (" +
                                                            std::to_string(report.files.size()) + " files)"
                                                      : out_path;
  std::printf("wrote %s: %zu tensors, %lld parameters, %.2f MiB of tensor data\n", written.c_str(),
              report.tensors.size(), static_cast<long long>(report.parameter_count), double(report.bytes) / (1 << 20));
  for (const auto& [type, n] : counts) std::printf("  %-6s %lld tensors\n", type.c_str(), static_cast<long long>(n));
  for (const WrittenTensor& t : report.tensors) {
    if (!t.note.empty()) std::printf("  %s -> %s (%s)\n", t.name.c_str(), dtype_name(t.dtype), t.note.c_str());
  }
}

void add_split_option(CLI::App& sub, std::string& size) {
  sub.add_option("--split-max-size", size,
                 "cut the output into files of at most this much tensor data (5G, 500M, 2GiB), named "
                 "OUT-00001-of-0000N.gguf, ... as llama.cpp's gguf-split names them; arbiter and llama.cpp open "
                 "such a model by its first file");
}

Status parse_split_option(const std::string& size, uint64_t& bytes) {
  if (size.empty()) return Status::ok();
  ARB_ASSIGN(bytes, parse_byte_size(size));
  return Status::ok();
}

namespace {

struct ConvertArgs {
  std::string hf_dir, split_max_size;
  ConvertOptions options;
};

const CommandRegistration kConvertRegistration({
    "convert",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<ConvertArgs>();
      sub.add_option("hf_dir", args->hf_dir, "Hugging Face model directory (config.json, *.safetensors, tokenizer), or hf://ORG/REPO to download one")
          ->required();
      sub.add_option("-o,--out", args->options.out_path, "output GGUF file")->required();
      sub.add_option("--type", args->options.type, std::string("output type: ") + output_type_names())
          ->capture_default_str();
      add_split_option(sub, args->split_max_size);
      return [args]() -> Status {
        ARB_TRY(parse_split_option(args->split_max_size, args->options.split_max_bytes));
        ARB_TRY(pull_model_source(args->hf_dir));
        ARB_ASSIGN(ConvertReport report, convert_hf_to_gguf(args->hf_dir, args->options));
        print_convert_report(report, args->options.out_path);
        return Status::ok();
      };
    },
    "convert a Hugging Face model directory (weights, tokenizer, chat template) to a GGUF file",
    80,
});

}  // namespace

}  // namespace arbiter::cli

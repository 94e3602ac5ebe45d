// arbiter convert: a Hugging Face model directory -> one self-contained GGUF file.
#include <cstdio>
#include <map>

#include "cli/command.h"
#include "cli/model_source.h"
#include "convert/convert.h"
#include "convert/quant_plan.h"

namespace arbiter::cli {

// Shared with cmd_quantize.cpp: one line per output type, and each tensor whose type was changed.
void print_convert_report(const ConvertReport& report, const std::string& out_path) {
  std::map<std::string, int64_t> counts;
  for (const WrittenTensor& t : report.tensors) counts[dtype_name(t.dtype)] += 1;
  std::printf("wrote %s: %zu tensors, %lld parameters, %.2f MiB of tensor data\n", out_path.c_str(),
              report.tensors.size(), static_cast<long long>(report.parameter_count), double(report.bytes) / (1 << 20));
  for (const auto& [type, n] : counts) std::printf("  %-6s %lld tensors\n", type.c_str(), static_cast<long long>(n));
  for (const WrittenTensor& t : report.tensors) {
    if (!t.note.empty()) std::printf("  %s -> %s (%s)\n", t.name.c_str(), dtype_name(t.dtype), t.note.c_str());
  }
}

namespace {

struct ConvertArgs {
  std::string hf_dir;
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
      return [args]() -> Status {
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

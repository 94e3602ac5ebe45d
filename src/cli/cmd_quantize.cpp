// arbiter quantize: a GGUF file -> the same model in another type (llama.cpp's _M mixtures).
#include "cli/command.h"
#include "cli/model_source.h"
#include "convert/convert.h"
#include "convert/quant_plan.h"

namespace arbiter::cli {

// Shared with cmd_convert.cpp.
void print_convert_report(const ConvertReport& report, const std::string& out_path);
void add_split_option(CLI::App& sub, std::string& size);
Status parse_split_option(const std::string& size, uint64_t& bytes);

namespace {

struct QuantizeArgs {
  std::string in_path, out_path, split_max_size;
  QuantizeOptions options;
};

const CommandRegistration kQuantizeRegistration({
    "quantize",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<QuantizeArgs>();
      sub.add_option("input", args->in_path, "input GGUF file (a split model's first file reads them all)")->required();
      sub.add_option("output", args->out_path, "output GGUF file")->required();
      sub.add_option("--type", args->options.type, std::string("output type: ") + output_type_names())
          ->capture_default_str();
      add_split_option(sub, args->split_max_size);
      return [args]() -> Status {
        ARB_TRY(parse_split_option(args->split_max_size, args->options.split_max_bytes));
        ARB_TRY(pull_model_source(args->in_path));
        ARB_ASSIGN(ConvertReport report, quantize_gguf(args->in_path, args->out_path, args->options));
        print_convert_report(report, args->out_path);
        return Status::ok();
      };
    },
    "requantize a GGUF file (dequantize and quantize every row; multi-threaded)",
    81,
});

}  // namespace

}  // namespace arbiter::cli

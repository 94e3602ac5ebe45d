// arbiter quantize: a GGUF file -> the same model in another type (llama.cpp's _M mixtures).
#include "cli/command.h"
#include "cli/model_source.h"
#include "convert/convert.h"
#include "convert/quant_plan.h"

namespace arbiter::cli {

void print_convert_report(const ConvertReport& report, const std::string& out_path);

namespace {

struct QuantizeArgs {
  std::string in_path, out_path;
  QuantizeOptions options;
};

const CommandRegistration kQuantizeRegistration({
    "quantize",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<QuantizeArgs>();
      sub.add_option("input", args->in_path, "input GGUF file")->required();
      sub.add_option("output", args->out_path, "output GGUF file")->required();
      sub.add_option("--type", args->options.type, std::string("output type: ") + output_type_names())
          ->capture_default_str();
      return [args]() -> Status {
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

// arbiter tokenize: text -> ids with a model's tokenizer (or ids -> text with --decode).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/model_source.h"
#include "cli/model_options.h"
#include "core/mapped_file.h"
#include "model/model_tokenizer.h"
#include "text/tokenizer.h"

namespace arbiter::cli {

namespace {

struct TokenizeArgs {
  std::string model_path, text, text_file, decode;
  bool decoding = false;  // --decode given, even as '' (no ids)
  bool special = false, parse_special = false, json = false, skip_special = false;
};

Status run_tokenize(const TokenizeArgs& args) {
  ARB_ASSIGN(auto tokenizer, load_tokenizer_at(args.model_path));
  if (args.decoding) {
    std::vector<int32_t> ids;
    if (args.decode.find_first_not_of(' ') != std::string::npos) {
      ARB_ASSIGN(ids, parse_int_list(args.decode, "--decode"));
    }
    ARB_ASSIGN(std::string text, tokenizer->decode(ids, args.skip_special));
    if (args.json) {
      std::printf("%s\n", nlohmann::json{{"text", text}}.dump().c_str());
    } else {
      // Written whole: decoded text may hold NUL bytes (a byte token 0x00), where %s would stop.
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fputc('\n', stdout);
    }
    return Status::ok();
  }
  std::string text = args.text;
  if (!args.text_file.empty()) {
    ARB_ASSIGN(text, read_file(args.text_file));
  }
  // --special: add BOS/EOS as the post-processor does and read special-token strings as specials;
  // --parse-special: the second alone (a rendered chat template, which holds its BOS as text).
  ARB_ASSIGN(std::vector<int32_t> ids, tokenizer->encode(text, args.special, args.special || args.parse_special));
  if (args.json) {
    nlohmann::json pieces = nlohmann::json::array();
    for (int32_t id : ids) pieces.push_back(tokenizer->id_to_token(id));
    std::printf("%s\n", nlohmann::json{{"ids", ids}, {"tokens", pieces}, {"count", ids.size()}}.dump().c_str());
  } else {
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
    std::printf("%s\n", line.c_str());
  }
  return Status::ok();
}

const CommandRegistration kTokenizeRegistration({
    "tokenize",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<TokenizeArgs>();
      sub.add_option("-m,--model", args->model_path, "GGUF file or Hugging Face model (or tokenizer) directory, or a model to download (hf://ORG/REPO, hf://ORG/REPO/FILE.gguf)")->required();
      auto* text = sub.add_option("--text", args->text, "text to encode");
      auto* file = sub.add_option("--text-file", args->text_file, "file whose content to encode");
      auto* decode = sub.add_option("--decode", args->decode, "comma-separated ids to decode instead");
      text->excludes(file)->excludes(decode);
      file->excludes(decode);
      sub.add_flag("--special", args->special, "add BOS/EOS and parse special-token strings");
      sub.add_flag("--parse-special", args->parse_special,
                   "parse special-token strings without adding BOS/EOS (transformers' add_special_tokens=False)")
          ->excludes(decode);
      sub.add_flag("--skip-special", args->skip_special, "with --decode: leave special tokens out");
      sub.add_flag("--json", args->json, "print JSON (ids, token strings)");
      return [args, text, file, decode]() -> Status {
        ARB_TRY(pull_model_source(args->model_path));
        if (text->count() + file->count() + decode->count() == 0) return error("give --text, --text-file or --decode");
        args->decoding = decode->count() > 0;
        return run_tokenize(*args);
      };
    },
    "encode text to token ids with a model's tokenizer, or decode ids",
    40,
});

}  // namespace

}  // namespace arbiter::cli

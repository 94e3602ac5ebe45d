// arbiter: reward models and LLM judges. Dispatches to the subcommands in cli/cmd_*.cpp.
#include <signal.h>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <new>
#include <string>

#include "cli/command.h"
#include "core/log.h"
#include "core/version.h"
#include "core/thread_pool.h"
#include "runtime/cpu/matmul.h"
#include "runtime/shared_prefix.h"

namespace arbiter::cli {
std::vector<CommandSpec>& command_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}
}  // namespace arbiter::cli

int main(int argc, char** argv) {
  using namespace arbiter;
  // A file-size limit (ulimit -f, a batch scheduler's) would kill the process mid-write without a word;
  // ignored, the write fails with EFBIG and the writer's error names the file.
  ::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"arbiter: reward models and LLM judges (GGUF and Hugging Face safetensors)", "arbiter"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (-t, -q, -v) may also follow the subcommand
  app.set_version_flag("--version", std::string("arbiter ") + kArbiterVersion);
  int threads = 0;
  bool verbose = false, quiet = false;
  app.add_option("-t,--threads", threads, "worker threads (0, the default: all cores)")->check(CLI::Range(0, 4096));
  std::string cpu_matmul = "auto";
  app.add_option("--cpu-matmul", cpu_matmul,
                 "CPU matmul arithmetic: auto (bf16 dot products for bf16/f16/quantized weights where the CPU has "
                 "AVX512-BF16, f32 otherwise), f32 (activations never rounded), or bf16 (every weight, f32 ones too)")
      ->check(CLI::IsMember({"auto", "f32", "bf16"}))
      ->default_val("auto");
  bool no_prefix_sharing = false;
  app.add_flag("--no-prefix-sharing", no_prefix_sharing,
               "compute every sequence whole on the CPU, even where sequences of a batch start alike (the same "
               "bytes either way; sharing is faster)");
  size_t prefix_cache_mb = kDefaultPrefixCacheBytes >> 20;
  app.add_option("--prefix-cache-mb", prefix_cache_mb,
                 "MiB of keys and values the CPU keeps from batch to batch (and request to request) for sequences "
                 "that begin as earlier ones did: a judge's grading prompt, a prompt's further samples; 0 keeps "
                 "none (the same bytes either way)")
      ->default_val(prefix_cache_mb)
      ->check(CLI::Range(size_t(0), size_t(1) << 30));
  app.add_flag("-v,--verbose", verbose, "debug logging");
  app.add_flag("-q,--quiet", quiet, "errors only");

  auto& registry = cli::command_registry();
  std::stable_sort(registry.begin(), registry.end(),
                   [](const cli::CommandSpec& a, const cli::CommandSpec& b) { return a.order < b.order; });
  std::vector<std::pair<CLI::App*, cli::CommandRunner>> runners;
  for (auto& spec : registry) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    runners.emplace_back(sub, spec.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A misspelt command leaves no command parsed, and the parser would only say that one is required.
    if (e.get_name() == "RequiredError" && app.get_subcommands().empty()) {
      for (const std::string& arg : app.remaining()) {
        if (arg.empty() || arg[0] == '-') continue;
        std::fprintf(stderr, "arbiter: error: unknown command '%s' (arbiter --help lists them)\n", arg.c_str());
        return e.get_exit_code();
      }
    }
    return app.exit(e);
  }
  set_log_level(verbose ? LogLevel::kDebug : quiet ? LogLevel::kError : LogLevel::kInfo);
  if (threads > 0) set_num_threads(threads);
  if (cpu_matmul == "bf16" && !bf16_matmul_supported()) {
    std::fprintf(stderr, "arbiter: error: --cpu-matmul bf16 needs a CPU with AVX512-BF16, which this one lacks\n");
    return 2;
  }
  set_prefix_sharing(!no_prefix_sharing);
  set_prefix_cache_bytes(prefix_cache_mb << 20);
  set_matmul_precision(cpu_matmul == "f32"    ? MatmulPrecision::kF32
                       : cpu_matmul == "bf16" ? MatmulPrecision::kBf16
                                              : MatmulPrecision::kAuto);

  for (auto& [sub, run] : runners) {
    if (!sub->parsed()) continue;
    Status status = Status::ok();
    // Errors travel as Status; an exception reaching here is a gap in that (a library throwing on input
    // no check foresaw). Say so plainly and exit non-zero rather than abort: outputs are flushed row by
    // row, so what was written stays readable.
    try {
      status = run();
    } catch (const std::bad_alloc&) {
      // Rows already written are whole, and --resume goes on from them.
      status = Status::error(
          "out of memory. Rows already written stay whole (a run with --resume goes on from them). Where the "
          "command has them, fewer tokens per batch (--batch-tokens), fewer threads (-t), --prefix-cache-mb 0 or "
          "part of the input at a time (--shard) need less");
    } catch (const std::exception& e) {
      status = Status::error(std::string("unexpected failure: ") + e.what());
    }
    if (!status.is_ok()) {
      std::fprintf(stderr, "arbiter %s: error: %s\n", sub->get_name().c_str(), status.message().c_str());
      return 1;
    }
    return 0;
  }
  return 2;
}

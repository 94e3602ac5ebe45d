// The eval subcommands kept in files of their own (rmbench, compare): each adds itself to `arbiter eval`
// and hands back what runs it.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "core/status.h"

namespace arbiter::cli {

struct EvalSubcommand {
  CLI::App* app = nullptr;  // parsed() when the user chose it
  std::function<Status()> run;
};

// eval rmbench (cmd_eval_rm_bench.cpp)
EvalSubcommand add_rm_bench_subcommand(CLI::App& eval);
// eval compare (cmd_eval_compare.cpp)
EvalSubcommand add_compare_subcommand(CLI::App& eval);

}  // namespace arbiter::cli

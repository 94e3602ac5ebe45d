// `arbiter eval rmbench`, a subcommand of eval kept in its own file.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "core/status.h"

namespace arbiter::cli {

struct RmBenchSubcommand {
  CLI::App* app = nullptr;     // parsed() when the user chose it
  std::function<Status()> run;
};

RmBenchSubcommand add_rm_bench_subcommand(CLI::App& eval);

}  // namespace arbiter::cli

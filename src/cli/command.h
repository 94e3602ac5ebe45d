// Subcommands register themselves here: each cli/cmd_*.cpp defines a static CommandRegistration whose
// setup function adds a CLI11 subcommand and sets its callback. main.cpp only dispatches.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter::cli {

// The callback returns a Status; main prints its message and exits 1 when it is an error.
using CommandRunner = std::function<Status()>;

struct CommandSpec {
  std::string name;
  // Adds options to `sub` and returns the function to run when `sub` was chosen.
  std::function<CommandRunner(CLI::App& sub)> setup;
  std::string description;
  int order = 100;  // position in --help
};

std::vector<CommandSpec>& command_registry();

struct CommandRegistration {
  explicit CommandRegistration(CommandSpec spec) { command_registry().push_back(std::move(spec)); }
};

}  // namespace arbiter::cli

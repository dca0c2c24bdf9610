// Subcommands of the pagellm CLI. Each lives in its own file and registers itself in main.cc.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace pagellm::cli {

// A subcommand registers its flags on `app` and returns the function that runs it.
using Runner = std::function<int()>;
struct Command {
  CLI::App* app;
  Runner run;
};

}  // namespace pagellm::cli

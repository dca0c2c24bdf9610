// The `pagellm bench` group: each benchmark file (bench serve, bench throughput) adds its own
// subcommand under the one "bench" subcommand, whichever registers first.
#pragma once

#include <CLI/CLI.hpp>

namespace pagellm::cli {

// The "bench" subcommand of `app`, created (requiring exactly one benchmark) on first use.
CLI::App* GetOrAddBench(CLI::App& app);

}  // namespace pagellm::cli

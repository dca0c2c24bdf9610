#include "tools/pagellm/bench_group.h"

namespace pagellm::cli {

CLI::App* GetOrAddBench(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App* a) { return a->get_name() == "bench"; })) {
    return sub;
  }
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  return bench;
}

}  // namespace pagellm::cli

// pagellm: the command-line entry point. Subcommands register in kCommands below.
#include <cstdio>
#include <vector>

#include "base/logging.h"
#include "tools/pagellm/commands.h"

namespace pagellm::cli {
// Registration functions, one per subcommand file (each guarded by what the build has).
std::vector<Command> RegisterAll(CLI::App& app);
}  // namespace pagellm::cli

int main(int argc, char** argv) {
  CLI::App app{"pagellm: serve large language models with a paged KV cache"};
  app.require_subcommand(0, 1);
  bool version = false;
  std::string log_level = "info";
  app.add_flag("--version", version, "Print the version and exit");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  auto commands = pagellm::cli::RegisterAll(app);
  CLI11_PARSE(app, argc, argv);
  pagellm::SetLogLevel(log_level);
  if (version) {
    std::printf("pagellm %s\n", PAGELLM_VERSION);
    return 0;
  }
  for (auto& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  std::printf("%s", app.help().c_str());
  return 0;
}

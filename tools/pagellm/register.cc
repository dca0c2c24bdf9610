// The one list of subcommands. Add a line here when a subcommand file lands.
#include "tools/pagellm/commands.h"

namespace pagellm::cli {

Command RegisterDebugForward(CLI::App& app);

std::vector<Command> RegisterAll(CLI::App& app) {
  std::vector<Command> out;
  (void)app;
  out.push_back(RegisterDebugForward(app));
  return out;
}

}  // namespace pagellm::cli

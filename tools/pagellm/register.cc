// The one list of subcommands. Add a line here when a subcommand file lands.
#include "tools/pagellm/commands.h"

namespace pagellm::cli {

Command RegisterTokenize(CLI::App& app);

std::vector<Command> RegisterAll(CLI::App& app) {
  std::vector<Command> out;
  out.push_back(RegisterTokenize(app));
  (void)app;
  return out;
}

}  // namespace pagellm::cli

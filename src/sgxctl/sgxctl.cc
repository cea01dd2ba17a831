// sgxctl: the operator's and developer's CLI for confcom. main only composes: one CLI11
// subcommand per Command (sgxctl/commands/), parse, run the chosen one. Exit codes: 0 success,
// 1 failure, 2 usage (`sgxctl` alone prints the usage and exits 2).
#include <cstdio>

#include "sgxctl/commands/command.h"
#include "common/cli_main.h"

int main(int argc, char** argv) {
  using namespace confcom;
  CLI::App app{"sgxctl: confcom's command-line tool for SGX quotes, the quote helper and the node.",
               "sgxctl"};
  AddVersionFlag(app, "sgxctl");
  app.require_subcommand(1);
  auto commands = sgxctl::AllCommands();
  std::vector<std::pair<CLI::App*, sgxctl::Command*>> chosen;
  for (auto& c : commands) {
    CLI::App* sub = app.add_subcommand(c->name(), c->help());
    c->Setup(*sub);
    chosen.emplace_back(sub, c.get());
  }
  if (argc < 2) {
    std::fputs(app.help().c_str(), stderr);
    return kExitUsage;
  }
  if (int code = ParseCommandLine(app, argc, argv); code >= 0) return code;
  for (auto& [sub, command] : chosen) {
    if (*sub) return command->Run();
  }
  return kExitUsage;
}

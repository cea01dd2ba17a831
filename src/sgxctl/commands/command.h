// sgxctl's subcommands: each is one Command (its own file), listed by AllCommands(). main
// adds one CLI11 subcommand per Command, lets it declare its flags, parses, and runs the one
// chosen. Run returns the exit code: 0 success, 1 failure, 2 usage (verify documents its own
// use of 2: inputs it cannot use).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <vector>

namespace confcom::sgxctl {

// One subcommand. Used from main's one thread: Setup() once, then Run() at most once.
class Command {
 public:
  virtual ~Command() = default;
  // The subcommand's name ("quote") and one line of help.
  virtual const char* name() const = 0;
  virtual const char* help() const = 0;
  // Declares the subcommand's flags on `sub`, bound to members Run() reads.
  virtual void Setup(CLI::App& sub) = 0;
  // Runs with the parsed flags; returns the exit code (above). Errors are printed, not thrown.
  virtual int Run() = 0;
};
// One factory per subcommand; each returns a new, unset Command.

std::unique_ptr<Command> MakeQuoteCommand();
std::unique_ptr<Command> MakeInspectCommand();
std::unique_ptr<Command> MakePingCommand();
std::unique_ptr<Command> MakeVerifyCommand();
std::unique_ptr<Command> MakeCollateralCommand();
std::unique_ptr<Command> MakePccsCommand();
std::unique_ptr<Command> MakeStatusCommand();
std::unique_ptr<Command> MakeDoctorCommand();
std::unique_ptr<Command> MakeExplainCommand();
std::unique_ptr<Command> MakeAttestCommand();

// In the order `sgxctl --help` lists them.
std::vector<std::unique_ptr<Command>> AllCommands();

}  // namespace confcom::sgxctl

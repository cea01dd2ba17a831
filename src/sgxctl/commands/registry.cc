#include "sgxctl/commands/command.h"

namespace confcom::sgxctl {

std::vector<std::unique_ptr<Command>> AllCommands() {
  std::vector<std::unique_ptr<Command>> all;
  all.push_back(MakeQuoteCommand());
  all.push_back(MakeInspectCommand());
  all.push_back(MakePingCommand());
  all.push_back(MakeVerifyCommand());
  all.push_back(MakeCollateralCommand());
  all.push_back(MakePccsCommand());
  all.push_back(MakeStatusCommand());
  all.push_back(MakeDoctorCommand());
  all.push_back(MakeExplainCommand());
  all.push_back(MakeAttestCommand());
  return all;
}

}  // namespace confcom::sgxctl

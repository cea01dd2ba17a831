// sgxctl inspect: every field of a DCAP v3 quote file, as text or JSON.
#include <iostream>

#include "sgxctl/commands/command.h"
#include "sgxctl/commands/common.h"
#include "sgxctl/quote_describe.h"
#include "common/file_util.h"
#include "sgx/quote_v3.h"

namespace confcom::sgxctl {
namespace {

class InspectCommand final : public Command {
 public:
  const char* name() const override { return "inspect"; }
  const char* help() const override { return "Print every field of a DCAP v3 quote file."; }
  void Setup(CLI::App& sub) override {
    sub.add_option("QUOTE", path_, "Quote file")->required();
    sub.add_flag("--json", json_, "Print JSON");
  }
  int Run() override {
    auto data = ReadFile(path_, 1 << 20);
    if (!data.ok()) return Fail(data.status().message());
    auto parsed = sgx::ParseQuoteV3(AsBytes(*data));
    if (!parsed.ok()) return Fail(path_ + ": " + parsed.status().message());
    auto j = DescribeQuote(*parsed);
    if (json_) {
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << RenderText(j);
    }
    return 0;
  }

 private:
  std::string path_;
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeInspectCommand() { return std::make_unique<InspectCommand>(); }

}  // namespace confcom::sgxctl

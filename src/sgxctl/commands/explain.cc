// sgxctl explain CODE...: the cause and fix of SGX/DCAP error codes (sgxctl/error_advice.h);
// without a code, the whole table. Exit 1 if a code has no entry, 2 if it is not a code.
#include <cstdio>
#include <fmt/format.h>

#include "sgxctl/commands/command.h"
#include "sgxctl/commands/common.h"
#include "sgxctl/error_advice.h"

namespace confcom::sgxctl {
namespace {

class ExplainCommand final : public Command {
 public:
  const char* name() const override { return "explain"; }
  const char* help() const override {
    return "Explain SGX/DCAP error codes (e.g. 0xe019, 0x4004, SGX_QL_NETWORK_ERROR): cause and fix. No code: list all.";
  }
  void Setup(CLI::App& sub) override {
    sub.add_option("CODE", codes_, "Error codes (hex) or names");
  }
  int Run() override {
    if (codes_.empty()) {
      for (const auto& a : AllErrorAdvice()) std::fputs(RenderErrorAdvice(a).c_str(), stdout);
      return 0;
    }
    int rc = 0;
    for (const auto& text : codes_) {
      auto code = ParseErrorCode(text);
      if (!code.ok()) {
        Fail(code.status().message());
        return 2;
      }
      if (const ErrorAdvice* a = FindErrorAdvice(*code)) {
        std::fputs(RenderErrorAdvice(*a).c_str(), stdout);
      } else {
        rc = Fail(fmt::format("0x{:04X}", *code) +
                  ": no advice for this code (see Intel's sgx_error.h / sgx_ql_lib_common.h)");
      }
    }
    return rc;
  }

 private:
  std::vector<std::string> codes_;
};

}  // namespace

std::unique_ptr<Command> MakeExplainCommand() { return std::make_unique<ExplainCommand>(); }

}  // namespace confcom::sgxctl

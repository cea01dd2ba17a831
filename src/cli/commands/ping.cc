// sgxctl ping: the readiness probe. Exit 0 only if the helper answers and offers ECDSA P-256.
#include <cstdio>

#include "cli/commands/command.h"
#include "cli/commands/common.h"

namespace confcom::cli {
namespace {

class PingCommand final : public Command {
 public:
  const char* name() const override { return "ping"; }
  const char* help() const override {
    return "Exit 0 only if the quote helper answers and offers ECDSA P-256 quoting (a readiness probe).";
  }
  void Setup(CLI::App& sub) override { AddSocketFlag(sub, socket_); }
  int Run() override {
    UseSocket(socket_);
    std::string socket = EffectiveSocket();
    if (Status st = PingHelper(socket); !st.ok()) {
      return Fail(st.message() + (st.code() == Status::Code::kUnavailable
                                      ? " (is sgx-quote-helper running and serving " + socket + "?)"
                                      : ""));
    }
    std::printf("ok: %s offers ECDSA P-256 quoting\n", socket.c_str());
    return 0;
  }

 private:
  std::string socket_;
};

}  // namespace

std::unique_ptr<Command> MakePingCommand() { return std::make_unique<PingCommand>(); }

}  // namespace confcom::cli

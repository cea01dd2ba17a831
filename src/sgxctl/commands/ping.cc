// sgxctl ping: the readiness probe. Exit 0 only if the helper answers and offers ECDSA P-256.
#include <cstdio>

#include "sgxctl/commands/command.h"
#include "sgxctl/commands/common.h"
#include "common/file_util.h"

namespace confcom::sgxctl {
namespace {

class PingCommand final : public Command {
 public:
  const char* name() const override { return "ping"; }
  const char* help() const override {
    return "Exit 0 only if the quote helper answers and offers ECDSA P-256 quoting (a readiness probe).";
  }
  void Setup(CLI::App& sub) override {
    AddSocketFlag(sub, socket_);
    sub.add_option(
        "--ready-file", ready_file_,
        "Also require this file, the helper's --ready-file (a helper that owns the socket)");
  }
  int Run() override {
    UseSocket(socket_);
    std::string socket = EffectiveSocket();
    // During a hand-over both helpers' probes reach whichever helper owns the path; the
    // helper's --ready-file says whether this one is the owner (docs/helper-handover.md).
    if (!ready_file_.empty() && !PathExists(ready_file_)) {
      return Fail("no " + ready_file_ + ": this quote helper does not own " + socket +
                  " (it is taking it over, or has handed it over)");
    }
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
  std::string ready_file_;
};

}  // namespace

std::unique_ptr<Command> MakePingCommand() { return std::make_unique<PingCommand>(); }

}  // namespace confcom::sgxctl

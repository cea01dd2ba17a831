// sgxctl doctor: checks what this node needs for quotes on SGX hardware (sgxctl/node_doctor.h).
// Exit 0 when nothing FAILed (WARNs allowed), 1 otherwise.
#include <cstdio>

#include "sgxctl/commands/command.h"
#include "sgxctl/commands/common.h"
#include "sgxctl/node_doctor.h"
#include "common/file_util.h"

namespace confcom::sgxctl {
namespace {

class DoctorCommand final : public Command {
 public:
  const char* name() const override { return "doctor"; }
  const char* help() const override {
    return "Check this node for SGX quoting on hardware: device nodes and access, the quote provider's QCNL "
           "config and its PCCS, the quote provider library, the quote helper. One line per check: OK, WARN or "
           "FAIL with a fix.";
  }
  void Setup(CLI::App& sub) override {
    AddSocketFlag(sub, socket_);
    sub.add_option("--host-root", options_.host_root,
                   "Prefix of every path checked (e.g. /host in a pod)");
    sub.add_option("--qcnl-config", options_.qcnl_path, "The quote provider's config file")
        ->capture_default_str();
    sub.add_option("--pccs-timeout-ms", options_.pccs_timeout_ms, "Timeout of the PCCS check")
        ->check(CLI::Range(100, 60000))
        ->capture_default_str();
    sub.add_flag("--skip-pccs", skip_pccs_, "Do not contact the PCCS");
    sub.add_flag("--skip-helper", skip_helper_, "Do not check the quote helper's socket");
  }
  int Run() override {
    if (!options_.host_root.empty() && !PathExists(options_.host_root)) {
      return Fail("no such path: " + options_.host_root + " (--host-root)");
    }
    UseSocket(socket_);
    options_.check_pccs = !skip_pccs_;
    if (!skip_helper_) {
      options_.helper_socket = EffectiveSocket();
      options_.ping_helper = [socket = options_.helper_socket] { return PingHelper(socket); };
    }
    auto findings = RunDoctor(options_);
    std::fputs(RenderFindings(findings).c_str(), stdout);
    return AnyFailed(findings) ? 1 : 0;
  }

 private:
  std::string socket_;
  DoctorOptions options_;
  bool skip_pccs_ = false;
  bool skip_helper_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeDoctorCommand() { return std::make_unique<DoctorCommand>(); }

}  // namespace confcom::sgxctl

// Starts the real sgx-quote-helper as a child process on a socket in a temp dir.
#pragma once

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace confcom::testing {

class HelperProcess {
 public:
  HelperProcess(const TempDir& dir, std::vector<std::string> extra = {}, std::string socket = "",
                std::string state = "", std::string log = "")
      : socket_(socket.empty() ? dir.File("run/aesmd/aesm.socket") : socket),
        state_(state.empty() ? dir.File("state") : state),
        log_(log.empty() ? dir.File("helper-" + std::to_string(counter_++) + ".log") : log) {
    std::vector<std::string> argv = {
        CONFCOM_HELPER_BIN, "--backend", "sim",         "--socket", socket_,
        "--state-dir",      state_,      "--log-level", "debug",    "--metrics-address",
        "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<Process>(argv, log_);
  }
  bool WaitReady() { return WaitForSocket(socket_); }
  Process& process() { return *process_; }
  const std::string& socket() const { return socket_; }
  const std::string& state() const { return state_; }
  std::string Log() const { return process_->Log(); }
  // SIGTERM, then wait; returns the exit status.
  int Stop() {
    process_->Signal(SIGTERM);
    return process_->Wait();
  }

 private:
  static inline int counter_ = 0;
  std::string socket_, state_, log_;
  std::unique_ptr<Process> process_;
};

}  // namespace confcom::testing

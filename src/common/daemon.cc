#include "common/daemon.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "common/cli_main.h"
#include "common/logging.h"

namespace confcom {

Daemon::Daemon(std::string name) : name_(std::move(name)) {}

Daemon::~Daemon() { Stop(); }

int Daemon::Configure(const DaemonFlags& flags) {
  flags_ = flags;
  if (Status st = SetupLogging(flags.log_format, flags.log_level, name_); !st.ok()) {
    std::fprintf(stderr, "%s: %s\n", name_.c_str(), st.message().c_str());
    return kExitUsage;
  }
  if (flags.metrics_address != "off") {
    if (Status st = CheckMetricsAddress(flags.metrics_address); !st.ok()) {
      spdlog::error("{}", st.message());
      return kExitUsage;
    }
  }
  return -1;
}

void Daemon::BlockSignals() {
  if (blocked_) return;
  signals_ = BlockTerminationSignals();
  blocked_ = true;
}

Result<MetricsServer*> Daemon::StartMetrics() {
  auto started = MetricsServer::StartFromFlag(flags_.metrics_address);
  if (!started.ok()) return started.status();
  metrics_ = std::move(started).value();
  return metrics_.get();
}

void Daemon::StopMetrics() {
  if (!metrics_) return;
  spdlog::debug("stopping: the metrics server");
  metrics_.reset();
}

void Daemon::AddStopStep(std::string what, std::function<void()> step) {
  steps_.emplace_back(std::move(what), std::move(step));
}

int Daemon::WaitForSignal() {
  BlockSignals();
  int sig = 0;
  while (sigwait(&signals_, &sig) != 0) {
  }
  spdlog::info("received {}: stopping", SignalName(sig));
  return sig;
}

void Daemon::OnSignal(std::function<void(int sig)> hook) {
  BlockSignals();
  watcher_ = std::make_unique<StopOnSignal>(signals_, [this, hook = std::move(hook)](int sig) {
    signalled_ = true;
    hook(sig);
  });
}

void Daemon::Stop() {
  if (stopped_) return;
  stopped_ = true;
  watcher_.reset();
  StopMetrics();
  for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
    spdlog::debug("stopping: {}", it->first);
    it->second();
  }
  steps_.clear();
}

}  // namespace confcom

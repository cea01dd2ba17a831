// The skeleton every confcom daemon runs in: logging from --log-format/--log-level, the metrics
// server of --metrics-address, the termination signals, and an ordered stop. A main parses its
// flags, calls Configure(), BlockSignals() before it starts any thread, starts what it serves
// (adding a stop step for each), then WaitForSignal() or OnSignal(hook), and Stop().
//
// Stop() runs in this fixed order: (1) the OnSignal hook's thread ends, so no hook runs during
// the teardown; (2) the metrics server stops serving, so no scrape reads what the steps tear
// down (collectors read the daemon's objects at scrape time); (3) the stop steps, the last
// added first (like destructors). ~Daemon runs Stop(): declare the objects that steps and
// collectors use before the Daemon, or call Stop() before they are destroyed.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/metrics_server.h"
#include "common/signals.h"
#include "common/status.h"

namespace confcom {

// What every daemon reads from its command line (common/daemon_flags.h adds the flags).
struct DaemonFlags {
  std::string log_format = "text";      // text | json
  std::string log_level = "info";       // trace ... off
  std::string metrics_address = "off";  // HOST:PORT, or "off" for no metrics server
};

// Not thread-safe: one thread (main) calls every method; only the OnSignal hook runs elsewhere.
class Daemon {
 public:
  // `name` names the logger and prefixes the usage errors printed before logging exists.
  explicit Daemon(std::string name);
  // Runs Stop() if it has not run.
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Sets up logging and checks flags.metrics_address. Returns -1 to go on, or kExitUsage (2)
  // after printing "<name>: <why>" on stderr (a bad format or level) or logging it (a bad
  // address). Call once, first.
  int Configure(const DaemonFlags& flags);

  // Blocks SIGTERM and SIGINT in this thread and so in every thread it starts later, and
  // ignores SIGPIPE (signals.h). Call before starting any thread. Idempotent.
  void BlockSignals();

  // Starts the metrics server on the configured address. Returns nullptr for "off"; IoError
  // when it cannot bind (the message suggests --metrics-address off), then exit kExitFailure.
  // The daemon owns the server; Stop() stops it. Call at most once, after Configure().
  Result<MetricsServer*> StartMetrics();
  // The server StartMetrics() started; nullptr before, when "off", and after Stop().
  MetricsServer* metrics() const { return metrics_.get(); }
  // Stops the metrics server now, for a daemon whose collectors read objects that go before
  // Stop() (the quote helper's counters go with its server). Idempotent; Stop() then skips it.
  void StopMetrics();

  // Registers `step` (e.g. "stop the plugins") for Stop(); steps run last added first, each
  // once. `what` names it in the debug log.
  void AddStopStep(std::string what, std::function<void()> step);

  // Blocks until SIGTERM or SIGINT arrives; logs "received SIGTERM: stopping" and returns the
  // signal. Requires BlockSignals() (called here if it was not, which is too late if threads
  // already run). Not while an OnSignal hook is set (its thread would take the signal); after
  // Stop() it may be (e.g. a helper that handed over idles until it is told to exit).
  int WaitForSignal();

  // Calls `hook(sig)` once, on a thread of its own, when SIGTERM or SIGINT arrives: the daemons'
  // "stop serving" (e.g. server->Shutdown()). The hook must not call Stop() (Stop joins its
  // thread). Stop() ends the thread, whether or not a signal came. Call at most once.
  void OnSignal(std::function<void(int sig)> hook);
  // Whether the OnSignal hook has been called (or is running); stays true after Stop().
  bool signalled() const { return signalled_; }

  // Runs the stop sequence above once; later calls do nothing.
  void Stop();

 private:
  std::string name_;
  DaemonFlags flags_;
  bool blocked_ = false;
  bool stopped_ = false;
  std::atomic<bool> signalled_{false};
  sigset_t signals_{};
  std::unique_ptr<MetricsServer> metrics_;
  std::unique_ptr<StopOnSignal> watcher_;
  std::vector<std::pair<std::string, std::function<void()>>> steps_;
};

}  // namespace confcom

// sgx-quote-helper: the per-node out-of-proc quoting service (an AESM-compatible server for
// Intel's libsgx_quote_ex clients) on /var/run/aesmd/aesm.socket. This file only composes:
// flags (helper/options.h), logging, metrics, signals and the daemon (helper/quote_helper_daemon.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <spdlog/spdlog.h>

#include "aesm/protobuf_log.h"
#include "common/cli_main.h"
#include "common/daemon_flags.h"
#include "common/logging.h"
#include "common/metrics_server.h"
#include "common/signals.h"
#include "helper/options.h"
#include "helper/quote_helper_daemon.h"

namespace confcom {
namespace {

int Serve(const helper::HelperFlags& f) {
  // Logging first, so that every later error is a log line.
  if (Status st = SetupLogging(f.log_format, f.log_level, "sgx-quote-helper"); !st.ok()) {
    std::fprintf(stderr, "sgx-quote-helper: %s\n", st.message().c_str());
    return kExitUsage;
  }
  aesm::RouteProtobufLogs();
  auto config = helper::ToQuoteHelperConfig(f);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return kExitUsage;
  }
  if (f.metrics_address != "off") {
    if (Status st = CheckMetricsAddress(f.metrics_address); !st.ok()) {
      spdlog::error("{}", st.message());
      return kExitUsage;
    }
  }

  // Signals are taken by one thread with sigwait: block them before any thread starts.
  sigset_t signals = BlockTerminationSignals();
  helper::RaiseFileLimit();

  // The backend and the socket, then metrics (a helper refused the socket never binds the
  // metrics address).
  auto daemon = helper::QuoteHelperDaemon::Open(std::move(config).value());
  if (!daemon.ok()) {
    spdlog::error("{}", daemon.status().message());
    return kExitFailure;
  }
  auto started = MetricsServer::StartFromFlag(f.metrics_address);
  if (!started.ok()) {
    spdlog::error("{}", started.status().message());
    return kExitFailure;
  }
  std::unique_ptr<MetricsServer> metrics_server = std::move(started).value();
  if (metrics_server) metrics_server->Add((*daemon)->ExportMetrics(metrics_server->registry()));

  StopOnSignal stop(signals, [&](int sig) {
    spdlog::info("received {}: finishing requests in flight, then exiting", SignalName(sig));
    (*daemon)->Stop();
  });
  // The metrics server reads the server's counters at scrape time: it stops before they go.
  Status st = (*daemon)->Run([&] { metrics_server.reset(); });
  return st.ok() ? kExitOk : kExitFailure;
}

}  // namespace
}  // namespace confcom

int main(int argc, char** argv) {
  using namespace confcom;
  helper::HelperFlags flags;
  CLI::App app{helper::kHelperDescription, "sgx-quote-helper"};
  AddVersionFlag(app, "sgx-quote-helper");
  helper::AddHelperFlags(app, &flags);
  RequireNonEmptyValues(app);
  if (int code = ParseCommandLine(app, argc, argv); code >= 0) return code;
  return Serve(flags);
}

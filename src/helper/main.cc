// sgx-quote-helper: the per-node out-of-proc quoting service (an AESM-compatible server for
// Intel's libsgx_quote_ex clients) on /var/run/aesmd/aesm.socket. This file only composes:
// flags (helper/options.h), the daemon skeleton (common/daemon.h) and the quote helper
// (helper/quote_helper_daemon.h).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "aesm/protobuf_log.h"
#include "common/cli_main.h"
#include "common/daemon.h"
#include "common/daemon_flags.h"
#include "helper/options.h"
#include "helper/quote_helper_daemon.h"

namespace confcom {
namespace {

int Serve(const helper::HelperFlags& f) {
  Daemon daemon("sgx-quote-helper");
  if (int rc = daemon.Configure({f.log_format, f.log_level, f.metrics_address}); rc >= 0) return rc;
  aesm::RouteProtobufLogs();
  auto config = helper::ToQuoteHelperConfig(f);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return kExitUsage;
  }
  daemon.BlockSignals();
  helper::RaiseFileLimit();

  // The backend and the socket, then metrics (a helper refused the socket never binds the
  // metrics address).
  auto helper = helper::QuoteHelperDaemon::Open(std::move(config).value());
  if (!helper.ok()) {
    spdlog::error("{}", helper.status().message());
    return kExitFailure;
  }
  auto metrics = daemon.StartMetrics();
  if (!metrics.ok()) {
    spdlog::error("{}", metrics.status().message());
    return kExitFailure;
  }
  if (*metrics != nullptr) (*metrics)->Add((*helper)->ExportMetrics((*metrics)->registry()));

  daemon.OnSignal([&](int sig) {
    spdlog::info("received {}: finishing requests in flight, then exiting", SignalName(sig));
    (*helper)->Stop();
  });
  // The metrics server reads the server's counters at scrape time: it stops before they go.
  Status st = (*helper)->Run([&] { daemon.StopMetrics(); });
  daemon.Stop();
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

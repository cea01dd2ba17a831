// sgx-webhook: the mutating and validating admission webhook for SGX pods (docs/webhook.md).
//   sgx-webhook [flags]          serve HTTPS
//   sgx-webhook certgen [flags]  the certificate Job (webhook/certgen)
// main only composes: flags (webhook/options.h), the serving certificate and the HTTPS layer
// (https/), the review routes (webhook/review_routes.h) and the daemon skeleton (common/daemon.h).
#include <CLI/CLI.hpp>
#include <cstring>
#include <memory>
#include <spdlog/spdlog.h>

#include "common/cli_main.h"
#include "common/daemon.h"
#include "https/cert_reloader.h"
#include "https/server.h"
#include "webhook/certgen/certgen.h"
#include "webhook/metrics.h"
#include "webhook/options.h"
#include "webhook/review_routes.h"

namespace confcom::webhook {
namespace {

int Serve(const WebhookFlags& f) {
  Daemon daemon("sgx-webhook");
  if (int rc = daemon.Configure({f.log_format, f.log_level, f.metrics_address}); rc >= 0) return rc;
  auto settings = SettingsFromFlags(f);
  if (!settings.ok()) {
    spdlog::error("{}", settings.status().message());
    return kExitUsage;
  }
  https::ServerOptions& options = settings->server;
  const WebhookConfig& config = settings->config;

  daemon.BlockSignals();
  auto certs = https::CertReloader::Open(f.cert_file, f.key_file);
  if (!certs.ok()) {
    spdlog::error("cannot load the serving certificate: {}", certs.status().message());
    return kExitFailure;
  }
  auto metrics_server = daemon.StartMetrics();
  if (!metrics_server.ok()) {
    spdlog::error("{}", metrics_server.status().message());
    return kExitFailure;
  }
  std::unique_ptr<WebhookMetrics> metrics;
  if (*metrics_server != nullptr) {
    metrics = std::make_unique<WebhookMetrics>((*metrics_server)->registry());
    (*certs)->set_on_reload([m = metrics.get()](bool ok) { m->CertificateReload(ok); });
    options.on_refusal = [m = metrics.get()](const std::string& reason) { m->Refused(reason); };
  }
  auto server = https::Server::Start(options, ReviewRoutes(config, metrics.get()), certs->get());
  if (!server.ok()) {
    spdlog::error("cannot serve on {}: {}", f.listen, server.status().message());
    return kExitFailure;
  }
  daemon.OnSignal([s = server->get()](int sig) {
    spdlog::info("received {}: stopping", SignalName(sig));
    s->Stop();
  });
  spdlog::info(
      "sgx-webhook {} serving HTTPS on {}:{} (legacy translation {}, quote helper {}:{}, "
      "in-proc quoting allowed for:{}; {} connection(s), {} per client, {} handler thread(s), "
      "bodies up to {} bytes)",
      CONFCOM_VERSION, options.host, (*server)->port(), f.legacy_translation,
      config.quote_helper.ns, config.quote_helper.name, DescribeProvisionAllowList(config),
      options.max_connections, options.max_connections_per_client, options.handler_threads,
      options.max_body_bytes);
  (*server)->Run();
  daemon.Stop();  // the signal thread, then the metrics server (it reads `metrics`)
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace
}  // namespace confcom::webhook

int main(int argc, char** argv) {
  using namespace confcom::webhook;
  if (argc >= 2 && std::strcmp(argv[1], "certgen") == 0) {
    return RunCertgen(argc - 1, argv + 1);
  }
  WebhookFlags flags;
  CLI::App app{"", "sgx-webhook"};
  AddWebhookFlags(app, &flags);
  if (int rc = confcom::ParseCommandLine(app, argc, argv); rc >= 0) return rc;
  return Serve(flags);
}

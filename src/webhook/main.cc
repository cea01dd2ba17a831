// sgx-webhook: the mutating and validating admission webhook for SGX pods (docs/webhook.md).
//   sgx-webhook [flags]          serve HTTPS
//   sgx-webhook certgen [flags]  the certificate Job (webhook/certgen)
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <spdlog/spdlog.h>

#include "common/cli_main.h"
#include "common/daemon_flags.h"
#include "common/logging.h"
#include "common/metrics_server.h"
#include "common/signals.h"
#include "webhook/cert_reloader.h"
#include "webhook/certgen/certgen.h"
#include "webhook/config.h"
#include "webhook/metrics.h"
#include "webhook/webhook_server.h"

namespace confcom::webhook {
namespace {

struct Flags {
  std::string listen = ":8443";
  std::string cert_file = "/etc/sgx-webhook/tls/tls.crt";
  std::string key_file = "/etc/sgx-webhook/tls/tls.key";
  std::string legacy_translation = "intel";
  std::vector<std::string> allow_namespaces;
  std::vector<std::string> allow_service_accounts;
  std::string quote_helper = "kube-system:sgx-quote-helper";
  std::string metrics_address = "127.0.0.1:9465";
  size_t max_body_bytes = 3 << 20;
  size_t max_connections = 64;
  int read_timeout = 10, write_timeout = 10, keep_alive_timeout = 30;
  std::string log_format = "text";
  std::string log_level = "info";
};

int Serve(const Flags& f) {
  if (Status st = SetupLogging(f.log_format, f.log_level, "sgx-webhook"); !st.ok()) {
    std::fprintf(stderr, "sgx-webhook: %s\n", st.message().c_str());
    return 2;
  }
  auto usage = [](const std::string& m) {
    spdlog::error("{}", m);
    return 2;
  };
  ServerOptions options;
  if (Status st = ParseListenAddress(f.listen, &options.host, &options.port); !st.ok()) return usage(st.message());
  options.max_body_bytes = f.max_body_bytes;
  options.max_connections = f.max_connections;
  options.read_timeout = std::chrono::seconds(f.read_timeout);
  options.write_timeout = std::chrono::seconds(f.write_timeout);
  options.keep_alive_timeout = std::chrono::seconds(f.keep_alive_timeout);

  WebhookConfig config;
  config.legacy_translation = f.legacy_translation == "intel";
  auto qh = ParseServiceAccountRef(f.quote_helper);
  if (!qh.ok()) return usage("--quote-helper-service-account: " + qh.status().message());
  config.quote_helper = *qh;
  config.allow_provision_namespaces = f.allow_namespaces;
  for (const auto& s : f.allow_service_accounts) {
    auto ref = ParseServiceAccountRef(s);
    if (!ref.ok()) return usage("--allow-provision-service-accounts: " + ref.status().message());
    config.allow_provision_service_accounts.push_back(*ref);
  }
  if (f.metrics_address != "off") {
    if (Status st = CheckMetricsAddress(f.metrics_address); !st.ok()) return usage(st.message());
  }

  sigset_t signals = BlockTerminationSignals();
  auto certs = CertReloader::Open(f.cert_file, f.key_file);
  if (!certs.ok()) {
    spdlog::error("cannot load the serving certificate: {}", certs.status().message());
    return 1;
  }
  auto started = MetricsServer::StartFromFlag(f.metrics_address);
  if (!started.ok()) {
    spdlog::error("{}", started.status().message());
    return 1;
  }
  std::unique_ptr<MetricsServer> metrics_server = std::move(started).value();
  std::unique_ptr<WebhookMetrics> metrics;
  if (metrics_server) {
    metrics = std::make_unique<WebhookMetrics>(metrics_server->registry());
    (*certs)->set_on_reload([m = metrics.get()](bool ok) { m->CertificateReload(ok); });
  }
  auto server = WebhookServer::Start(options, config, certs->get(), metrics.get());
  if (!server.ok()) {
    spdlog::error("cannot serve on {}: {}", f.listen, server.status().message());
    return 1;
  }
  {
    StopOnSignal stop(signals, [s = server->get()](int sig) {
      spdlog::info("received {}: stopping", SignalName(sig));
      s->Stop();
    });
    std::string allowed;
    for (const auto& n : config.allow_provision_namespaces) allowed += " namespace " + n;
    for (const auto& sa : config.allow_provision_service_accounts) allowed += " " + sa.ns + ":" + sa.name;
    spdlog::info("sgx-webhook {} serving HTTPS on {}:{} (legacy translation {}, quote helper {}:{}, "
                 "in-proc quoting allowed for:{}; {} connection(s), bodies up to {} bytes)",
                 CONFCOM_VERSION, options.host, (*server)->port(), f.legacy_translation, config.quote_helper.ns,
                 config.quote_helper.name, allowed.empty() ? " nobody else" : allowed, options.max_connections,
                 options.max_body_bytes);
    (*server)->Run();
  }
  metrics_server.reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace confcom::webhook

int main(int argc, char** argv) {
  using namespace confcom::webhook;
  if (argc >= 2 && std::strcmp(argv[1], "certgen") == 0) {
    return RunCertgen(argc - 1, argv + 1);
  }
  Flags f;
  CLI::App app{
      "sgx-webhook: the admission webhook for SGX pods. Mutating (POST /mutate-pods): adds the enclave\n"
      "device to containers asking for sgx.intel.com/epc, translates the legacy EPC name, applies\n"
      "Intel's sgx.intel.com/quote-provider annotation, writes the EPC annotations. Validating\n"
      "(POST /validate-pods): only the quote helper and allowed workloads may have the provisioning\n"
      "device. Subcommand: `sgx-webhook certgen --help` (the certificate Job). See docs/webhook.md.",
      "sgx-webhook"};
  confcom::AddVersionFlag(app, "sgx-webhook");
  app.add_option("--listen", f.listen, "[HOST]:PORT to serve HTTPS on")->capture_default_str();
  app.add_option("--tls-cert-file", f.cert_file, "PEM serving certificate (then its chain); reloaded when it changes")
      ->capture_default_str();
  app.add_option("--tls-private-key-file", f.key_file, "PEM private key of the certificate; reloaded when it changes")
      ->capture_default_str();
  app.add_option("--legacy-translation", f.legacy_translation,
                 "intel: rewrite kubernetes.azure.com/sgx_epc_mem_in_MiB: N as sgx.intel.com/epc: NMi (+ the enclave "
                 "device) and kubernetes.azure.com/sgx_provision as sgx.intel.com/provision, for a device plugin "
                 "running the intel scheme; off: leave legacy names alone (legacy scheme)")
      ->check(CLI::IsMember({"intel", "off"}))
      ->capture_default_str();
  app.add_option("--allow-provision-namespaces", f.allow_namespaces,
                 "Namespaces whose pods may have the SGX provisioning device (in-proc quoting); comma-separated. "
                 "Default: none")
      ->delimiter(',');
  app.add_option("--allow-provision-service-accounts", f.allow_service_accounts,
                 "NAMESPACE:SERVICEACCOUNT pairs whose pods may have the provisioning device; comma-separated. "
                 "Default: none")
      ->delimiter(',');
  app.add_option("--quote-helper-service-account", f.quote_helper,
                 "NAMESPACE:SERVICEACCOUNT of the sgx-quote-helper DaemonSet (always allowed the provisioning "
                 "device)")
      ->capture_default_str();
  app.add_option("--metrics-address,--metrics-listen", f.metrics_address,
                 "HOST:PORT for Prometheus metrics at /metrics (port 0: any free port; 'off' to disable)")
      ->capture_default_str();
  app.add_option("--max-body-bytes", f.max_body_bytes, "Largest request body; larger ones get 413")
      ->check(CLI::Range(size_t(64 * 1024), size_t(64) << 20))
      ->capture_default_str();
  app.add_option("--max-connections", f.max_connections,
                 "Connections served at once (one thread each); as many more wait, then accepting pauses")
      ->check(CLI::Range(size_t(1), size_t(4096)))
      ->capture_default_str();
  app.add_option("--read-timeout-seconds", f.read_timeout, "Per-read timeout on a connection")
      ->check(CLI::Range(1, 300))
      ->capture_default_str();
  app.add_option("--write-timeout-seconds", f.write_timeout, "Per-write timeout on a connection")
      ->check(CLI::Range(1, 300))
      ->capture_default_str();
  app.add_option("--keep-alive-timeout-seconds", f.keep_alive_timeout,
                 "How long an idle keep-alive connection is kept")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  confcom::AddLoggingFlags(app, &f.log_format, &f.log_level);
  confcom::RequireNonEmptyValues(app);
  if (int rc = confcom::ParseCommandLine(app, argc, argv); rc >= 0) return rc;
  return Serve(f);
}

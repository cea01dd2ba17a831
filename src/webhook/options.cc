#include "webhook/options.h"

#include "common/cli_main.h"
#include "common/daemon_flags.h"
#include "common/metrics_server.h"

namespace confcom::webhook {

void AddWebhookFlags(CLI::App& app, WebhookFlags* f) {
  app.description(
      "sgx-webhook: the admission webhook for SGX pods. Mutating (POST /mutate-pods): adds the enclave\n"
      "device to containers asking for sgx.intel.com/epc, translates the legacy EPC name, applies\n"
      "Intel's sgx.intel.com/quote-provider annotation, writes the EPC annotations. Validating\n"
      "(POST /validate-pods): only the quote helper and allowed workloads may have the provisioning\n"
      "device. Subcommand: `sgx-webhook certgen --help` (the certificate Job). See docs/webhook.md.");
  AddVersionFlag(app, "sgx-webhook");
  app.add_option("--listen", f->listen, "[HOST]:PORT to serve HTTPS on")->capture_default_str();
  app.add_option("--tls-cert-file", f->cert_file,
                 "PEM serving certificate (then its chain); reloaded when it changes")
      ->capture_default_str();
  app.add_option("--tls-private-key-file", f->key_file,
                 "PEM private key of the certificate; reloaded when it changes")
      ->capture_default_str();
  app.add_option(
         "--legacy-translation", f->legacy_translation,
         "intel: rewrite kubernetes.azure.com/sgx_epc_mem_in_MiB: N as sgx.intel.com/epc: NMi (+ the enclave "
         "device) and kubernetes.azure.com/sgx_provision as sgx.intel.com/provision, for a device plugin "
         "running the intel scheme; off: leave legacy names alone (legacy scheme)")
      ->check(CLI::IsMember({"intel", "off"}))
      ->capture_default_str();
  app.add_option(
         "--allow-provision-namespaces", f->allow_namespaces,
         "Namespaces whose pods may have the SGX provisioning device (in-proc quoting); comma-separated. "
         "Default: none")
      ->delimiter(',');
  app.add_option(
         "--allow-provision-service-accounts", f->allow_service_accounts,
         "NAMESPACE:SERVICEACCOUNT pairs whose pods may have the provisioning device; comma-separated. "
         "Default: none")
      ->delimiter(',');
  app.add_option(
         "--quote-helper-service-account", f->quote_helper,
         "NAMESPACE:SERVICEACCOUNT of the sgx-quote-helper DaemonSet (always allowed the provisioning "
         "device)")
      ->capture_default_str();
  app.add_option(
         "--metrics-address,--metrics-listen", f->metrics_address,
         "HOST:PORT for Prometheus metrics at /metrics (port 0: any free port; 'off' to disable)")
      ->capture_default_str();
  https::AddServerLimitFlags(app, &f->limits, "Threads running review handlers");
  AddLoggingFlags(app, &f->log_format, &f->log_level);
  RequireNonEmptyValues(app);
}

Result<WebhookSettings> SettingsFromFlags(const WebhookFlags& f) {
  WebhookSettings s;
  https::ServerOptions& options = s.server;
  options.server_name = "sgx-webhook";
  CONFCOM_RETURN_IF_ERROR(https::ParseListenAddress(f.listen, &options.host, &options.port));
  https::ApplyServerLimitFlags(f.limits, &options);

  WebhookConfig& config = s.config;
  config.legacy_translation = f.legacy_translation == "intel";
  auto qh = ParseServiceAccountRef(f.quote_helper);
  if (!qh.ok())
    return Status::InvalidArgument("--quote-helper-service-account: " + qh.status().message());
  config.quote_helper = *qh;
  config.allow_provision_namespaces = f.allow_namespaces;
  for (const auto& text : f.allow_service_accounts) {
    auto ref = ParseServiceAccountRef(text);
    if (!ref.ok())
      return Status::InvalidArgument("--allow-provision-service-accounts: " +
                                     ref.status().message());
    config.allow_provision_service_accounts.push_back(*ref);
  }
  if (f.metrics_address != "off") CONFCOM_RETURN_IF_ERROR(CheckMetricsAddress(f.metrics_address));
  return s;
}

std::string DescribeProvisionAllowList(const WebhookConfig& config) {
  std::string allowed;
  for (const auto& n : config.allow_provision_namespaces) allowed += " namespace " + n;
  for (const auto& sa : config.allow_provision_service_accounts)
    allowed += " " + sa.ns + ":" + sa.name;
  return allowed.empty() ? " nobody else" : allowed;
}

}  // namespace confcom::webhook
